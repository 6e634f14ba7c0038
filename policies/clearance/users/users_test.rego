package clearance.users_test

import data.clearance.users

_practice_subject(role) := {"id": "u1", "account_id": "a1", "role": role}

_target(id, role) := {"type": "user", "id": id, "account_id": "a1", "role": role, "client_access_mode": null}

_request(action, subject, target, attributes) := {
	"action": action,
	"subject": subject,
	"account": {"id": "a1", "kind": "practice"},
	"resource": object.union(target, {"attributes": attributes}),
}

_other_standard := _target("u2", "standard")

test_everyone_may_view_and_edit_their_own_profile if {
	every action in {"user.view", "user.profile.edit"} {
		every role in {"standard", "expense_approver", "client_admin"} {
			request := _request(action, _practice_subject(role), _target("u1", role), {})
			users.denials(request) == set()
			"self_service" in users.grants(request)
		}
	}
}

test_standard_users_cannot_view_colleagues if {
	request := _request("user.view", _practice_subject("standard"), _other_standard, {})
	users.denials(request) == {"role_not_permitted"}
	users.grants(request) == set()
}

test_expense_approvers_cannot_update_their_own_user if {
	request := _request("user.update", _practice_subject("expense_approver"), _target("u1", "expense_approver"), {})
	users.denials(request) == {"role_not_permitted"}
}

test_top_admin_may_do_every_user_action_on_colleagues if {
	every action in {"user.view", "user.update", "user.suspend", "user.enable", "user.remove", "user.client_access.edit"} {
		request := _request(action, _practice_subject("practice_admin"), _target("u2", "practice_admin"), {})
		users.denials(request) == set()
		users.grants(request) == {"top_admin"}
	}
}

test_top_admin_may_create_another_top_admin if {
	request := _request("user.create", _practice_subject("practice_admin"), {"type": "user"}, {"role": "practice_admin"})
	users.denials(request) == set()
}

test_sub_admin_may_manage_standard_users if {
	request := _request("user.suspend", _practice_subject("client_admin"), _other_standard, {})
	users.denials(request) == set()
	users.grants(request) == {"sub_admin"}
}

test_sub_admin_cannot_suspend_a_top_admin if {
	request := _request("user.suspend", _practice_subject("client_admin"), _target("u2", "practice_admin"), {})
	users.denials(request) == {"admin_target_protected"}
}

test_sub_admin_may_view_a_top_admin if {
	request := _request("user.view", _practice_subject("client_admin"), _target("u2", "practice_admin"), {})
	users.denials(request) == set()
	users.grants(request) == {"sub_admin"}
}

test_sub_admin_cannot_create_a_top_admin if {
	request := _request("user.create", _practice_subject("client_admin"), {"type": "user"}, {"role": "practice_admin"})
	users.denials(request) == {"admin_target_protected"}
}

test_sub_admin_may_create_a_sub_admin if {
	request := _request("user.create", _practice_subject("client_admin"), {"type": "user"}, {"role": "client_admin"})
	users.denials(request) == set()
}

test_user_create_without_a_proposed_role_is_decided_on_the_role_of_the_subject if {
	users.denials(_request("user.create", _practice_subject("client_admin"), {"type": "user"}, {})) == set()
	users.denials(_request("user.create", _practice_subject("standard"), {"type": "user"}, {})) == {"role_not_permitted"}
}

test_a_role_of_the_other_account_kind_is_invalid if {
	request := _request("user.update", _practice_subject("practice_admin"), _other_standard, {"role": "user_admin"})
	users.denials(request) == {"invalid_role"}
}

test_no_user_may_be_created_as_expense_approver if {
	request := _request("user.create", _practice_subject("practice_admin"), {"type": "user"}, {"role": "expense_approver"})
	users.denials(request) == {"role_phased_out"}
}

test_a_user_may_not_be_changed_to_expense_approver if {
	request := _request("user.update", _practice_subject("practice_admin"), _other_standard, {"role": "expense_approver"})
	users.denials(request) == {"role_phased_out"}
}

test_an_expense_approver_may_keep_the_role_while_being_edited if {
	target := _target("u2", "expense_approver")
	request := _request("user.update", _practice_subject("practice_admin"), target, {"role": "expense_approver"})
	users.denials(request) == set()
}

test_a_proposed_role_only_counts_for_create_and_update if {
	request := _request("user.suspend", _practice_subject("client_admin"), _other_standard, {"role": "practice_admin"})
	users.denials(request) == set()
}

test_nobody_may_suspend_or_remove_themselves if {
	every action in {"user.suspend", "user.remove", "user.client_access.edit"} {
		request := _request(action, _practice_subject("practice_admin"), _target("u1", "practice_admin"), {})
		users.denials(request) == {"self_action_not_allowed"}
	}
}

test_nobody_may_change_their_own_role if {
	target := _target("u1", "practice_admin")
	request := _request("user.update", _practice_subject("practice_admin"), target, {"role": "client_admin"})
	users.denials(request) == {"self_action_not_allowed"}
}

test_admins_may_update_themselves_without_a_role_change if {
	target := _target("u1", "client_admin")
	request := _request("user.update", _practice_subject("client_admin"), target, {"role": "client_admin"})
	users.denials(request) == set()
	users.grants(request) == {"sub_admin"}
}

test_a_greyed_out_xero_client_cannot_be_allocated_in_ledger_selected_mode if {
	users.denials(_allocation("ledger_selected", {"ledger": "xero", "ledger_access": false})) == {"ledger_access_required"}
}

test_a_xero_client_with_ledger_access_can_be_allocated if {
	users.denials(_allocation("ledger_selected", {"ledger": "xero", "ledger_access": true})) == set()
}

test_ledger_access_is_not_needed_to_allocate_in_selected_mode if {
	users.denials(_allocation("selected", {"ledger": "xero", "ledger_access": false})) == set()
}

test_ledger_access_is_not_needed_to_allocate_other_ledgers if {
	users.denials(_allocation("ledger_selected", {"ledger": "quickbooks", "ledger_access": false})) == set()
}

test_a_client_that_does_not_exist_cannot_be_allocated if {
	request := _request(
		"user.client_access.edit", _practice_subject("practice_admin"), object.union(
			_other_standard,
			{"attribute_client": {"id": "c9", "found": false}},
		),
		{"client_id": "c9"},
	)
	users.denials(request) == {"client_not_found"}
}

test_a_client_of_another_account_cannot_be_allocated if {
	request := _allocation("all", {"account_id": "a2", "ledger": "myob", "ledger_access": false})
	users.denials(request) == {"tenant_mismatch"}
}

_allocation(mode, client) := _request(
	"user.client_access.edit",
	_practice_subject("practice_admin"),
	object.union(_other_standard, {
		"client_access_mode": mode,
		"attribute_client": object.union({"id": "c1", "found": true, "account_id": "a1"}, client),
	}),
	{"client_id": "c1"},
)
