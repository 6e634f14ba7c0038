package clearance.items_test

import data.clearance.items

_user(role, permissions) := {"id": "u1", "role": role, "permissions": permissions}

_item(owner, kind) := {"type": "item", "id": "i1", "client_id": null, "owner_user_id": owner, "kind": kind}

_request(action, user, kind, item) := {
	"action": action,
	"subject": user,
	"account": {"id": "a1", "kind": kind},
	"resource": item,
}

_colleague_receipt := _item("u2", "receipt")

_colleague_claim := _item("u2", "expense_claim")

_own_receipt := _item("u1", "receipt")

_own_claim := _item("u1", "expense_claim")

_client_item(client) := object.union(_colleague_claim, {"client_id": "c1", "client": client})

_allocated_client := {"id": "c1", "ledger": "myob", "allocated": true, "ledger_access": false}

_unallocated_client := object.union(_allocated_client, {"allocated": false})

test_top_admin_may_do_everything_in_the_own_books if {
	every action in {"item.view", "item.edit", "item.publish"} {
		request := _request(action, _user("business_admin", {}), "business", _colleague_receipt)
		items.denials(request) == set()
		items.grants(request) == {"top_admin"}
	}
}

test_business_user_admin_manages_all_financial_data if {
	request := _request("item.publish", _user("user_admin", {}), "business", _colleague_receipt)
	items.grants(request) == {"manage_financial_data"}
}

test_practice_user_with_manage_business_sees_and_publishes_every_item if {
	every action in {"item.view", "item.edit", "item.publish"} {
		request := _request(action, _user("standard", {"manage_business": true}), "practice", _colleague_receipt)
		items.denials(request) == set()
		items.grants(request) == {"manage_business"}
	}
}

test_manage_business_means_nothing_in_a_business_account if {
	request := _request("item.view", _user("standard", {"manage_business": true}), "business", _colleague_receipt)
	items.denials(request) == {"not_owner"}
}

test_standard_user_sees_and_edits_own_items_only if {
	every action in {"item.view", "item.edit"} {
		items.grants(_request(action, _user("standard", {}), "business", _own_receipt)) == {"own_item"}
		items.denials(_request(action, _user("standard", {}), "business", _colleague_receipt)) == {"not_owner"}
	}
}

test_client_admin_without_manage_business_sees_own_items_only if {
	items.denials(_request("item.view", _user("client_admin", {}), "practice", _colleague_receipt)) == {"not_owner"}
}

test_standard_user_with_publishing_all_publishes_any_own_item if {
	request := _request("item.publish", _user("standard", {"publishing": "all"}), "practice", _own_receipt)
	items.denials(request) == set()
	items.grants(request) == {"own_item", "publishing_all"}
}

test_standard_user_can_publish_own_claims_when_claims_only if {
	request := _request("item.publish", _user("standard", {"publishing": "expense_claims_only"}), "business", _own_claim)
	items.denials(request) == set()
	items.grants(request) == {"own_item", "publishing_expense_claims_only"}
}

test_standard_user_cannot_publish_receipts_when_claims_only if {
	request := _request("item.publish", _user("standard", {"publishing": "expense_claims_only"}), "business", _own_receipt)
	items.denials(request) == {"permission_missing"}
}

test_standard_user_cannot_publish_without_a_publishing_permission if {
	items.denials(_request("item.publish", _user("standard", {}), "business", _own_claim)) == {"permission_missing"}
}

test_publishing_a_colleagues_item_without_permission_gives_both_codes if {
	request := _request("item.publish", _user("standard", {"publishing": "none"}), "business", _colleague_receipt)
	items.denials(request) == {"not_owner", "permission_missing"}
}

test_expense_approver_may_view_expense_claims if {
	request := _request("item.view", _user("expense_approver", {}), "business", _colleague_claim)
	items.denials(request) == set()
	items.grants(request) == {"expense_approver"}
}

test_expense_approver_may_do_nothing_else if {
	items.denials(_request("item.view", _user("expense_approver", {}), "business", _colleague_receipt)) == {
		"role_not_permitted",
	}
	every action in {"item.edit", "item.publish"} {
		items.denials(_request(action, _user("expense_approver", {}), "business", _colleague_claim)) == {
			"role_not_permitted",
		}
	}
}

test_approvers_may_approve_colleagues_claims if {
	every role in {"practice_admin", "expense_approver"} {
		items.denials(_request("expense_claim.approve", _user(role, {}), "practice", _colleague_claim)) == set()
	}
	manager := _user("client_admin", {"manage_business": true})
	request := _request("expense_claim.approve", manager, "practice", _colleague_claim)
	items.grants(request) == {"manage_business"}
	items.grants(_request("expense_claim.approve", _user("expense_approver", {}), "business", _colleague_claim)) == {
		"expense_approver",
	}
}

test_standard_users_cannot_approve_claims if {
	request := _request("expense_claim.approve", _user("standard", {"publishing": "all"}), "business", _colleague_claim)
	items.denials(request) == {"role_not_permitted"}
}

test_nobody_approves_their_own_claim if {
	request := _request("expense_claim.approve", _user("business_admin", {}), "business", _own_claim)
	items.denials(request) == {"self_approval"}
}

test_only_expense_claims_can_be_approved if {
	request := _request("expense_claim.approve", _user("user_admin", {}), "business", _colleague_receipt)
	items.denials(request) == {"item_kind_not_supported"}
}

test_items_of_a_client_need_client_access if {
	user := _user("standard", {"manage_business": true})
	items.denials(_request("item.view", user, "practice", _client_item(_unallocated_client))) == {"client_not_allocated"}
	items.grants(_request("item.edit", user, "practice", _client_item(_allocated_client))) == {"client_allocated"}
}

test_a_standard_user_with_client_access_may_publish_a_colleagues_client_item if {
	request := _request("item.publish", _user("standard", {}), "practice", _client_item(_allocated_client))
	items.denials(request) == set()
	items.grants(request) == {"client_allocated"}
}

test_expense_approvers_have_no_access_to_client_items if {
	request := _request("item.view", _user("expense_approver", {}), "practice", _client_item(_allocated_client))
	items.denials(request) == {"role_not_permitted"}
}

test_approving_a_client_claim_needs_client_access_and_an_approver if {
	manager := _user("standard", {"manage_business": true})
	items.grants(_request("expense_claim.approve", manager, "practice", _client_item(_allocated_client))) == {
		"client_allocated", "manage_business",
	}
	request := _request("expense_claim.approve", _user("standard", {}), "practice", _client_item(_unallocated_client))
	items.denials(request) == {
		"client_not_allocated", "role_not_permitted",
	}
}

test_top_admin_and_manage_business_users_may_create_expense_claims if {
	items.claim_creation_grants(_user("practice_admin", {}), "practice") == {"top_admin"}
	items.claim_creation_denials(_user("practice_admin", {}), "practice") == set()
	items.claim_creation_grants(_user("client_admin", {"manage_business": true}), "practice") == {"manage_business"}
	items.claim_creation_grants(_user("user_admin", {}), "business") == {"manage_financial_data"}
}

test_standard_user_needs_create_expense_claims_to_create_claims if {
	user := _user("standard", {"create_expense_claims": true})
	items.claim_creation_grants(user, "business") == {"create_expense_claims"}
	items.claim_creation_denials(_user("standard", {}), "practice") == {"permission_missing"}
}

test_expense_approvers_cannot_create_expense_claims if {
	items.claim_creation_grants(_user("expense_approver", {"create_expense_claims": true}), "business") == set()
	items.claim_creation_denials(_user("expense_approver", {"create_expense_claims": true}), "business") == {
		"role_not_permitted",
	}
}

test_every_code_of_the_area_is_listed if {
	"self_approval" in items.deny_codes
	"client_not_allocated" in items.deny_codes
	"publishing_expense_claims_only" in items.grant_codes
	"ledger_access" in items.grant_codes
}
