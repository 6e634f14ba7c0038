package clearance.accounts_test

import data.clearance.accounts

_request(action, role, permissions, kind) := {
	"action": action,
	"subject": {"id": "u1", "role": role, "permissions": permissions},
	"account": {"id": "a1", "kind": kind},
	"resource": {"type": "account", "id": "a1"},
}

_admin_actions := {"settings.view", "settings.edit", "processes.manage", "automation.manage", "users.list"}

test_top_admins_may_do_every_admin_action if {
	every action in _admin_actions {
		accounts.denials(_request(action, "practice_admin", {}, "practice")) == set()
		accounts.grants(_request(action, "practice_admin", {}, "practice")) == {"top_admin"}
	}
}

test_sub_admins_may_do_every_admin_action if {
	every action in _admin_actions {
		accounts.grants(_request(action, "user_admin", {}, "business")) == {"sub_admin"}
	}
}

test_standard_users_cannot_edit_settings if {
	accounts.denials(_request("settings.edit", "standard", {}, "practice")) == {"role_not_permitted"}
	accounts.grants(_request("settings.edit", "standard", {}, "practice")) == set()
}

test_expense_approvers_cannot_list_users if {
	accounts.denials(_request("users.list", "expense_approver", {}, "business")) == {"role_not_permitted"}
}

test_only_the_top_admin_manages_the_subscription if {
	accounts.grants(_request("subscription.manage", "business_admin", {}, "business")) == {"top_admin"}
	every role in {"client_admin", "user_admin", "standard", "expense_approver"} {
		accounts.denials(_request("subscription.manage", role, {}, "business")) == {"subscription_requires_top_admin"}
	}
}

test_sub_admins_are_not_granted_the_subscription if {
	accounts.grants(_request("subscription.manage", "client_admin", {}, "practice")) == set()
}

test_standard_user_with_add_clients_may_create_clients if {
	request := _request("client.create", "standard", {"add_clients": true}, "practice")
	accounts.denials(request) == set()
	accounts.grants(request) == {"add_clients"}
}

test_standard_user_without_add_clients_misses_a_permission if {
	accounts.denials(_request("client.create", "standard", {}, "practice")) == {"permission_missing"}
}

test_admins_may_create_clients_without_the_permission if {
	accounts.grants(_request("client.create", "client_admin", {}, "practice")) == {"sub_admin"}
}

test_expense_approver_with_add_clients_still_may_not_create_clients if {
	request := _request("client.create", "expense_approver", {"add_clients": true}, "practice")
	accounts.denials(request) == {"role_not_permitted"}
}

test_standard_user_with_practice_insights_may_view_insights if {
	request := _request("insights.view", "standard", {"practice_insights": true}, "practice")
	accounts.grants(request) == {"practice_insights"}
}

test_standard_user_without_practice_insights_misses_a_permission if {
	accounts.denials(_request("insights.view", "standard", {"add_clients": true}, "practice")) == {"permission_missing"}
}

test_expense_claim_create_is_decided_by_the_items_area if {
	accounts.grants(_request("expense_claim.create", "standard", {"create_expense_claims": true}, "business")) == {
		"create_expense_claims",
	}
	accounts.denials(_request("expense_claim.create", "standard", {}, "business")) == {"permission_missing"}
}

test_an_account_action_without_a_rule_is_neither_denied_nor_granted if {
	accounts.denials(_request("settings.delete", "practice_admin", {}, "practice")) == set()
	accounts.grants(_request("settings.delete", "practice_admin", {}, "practice")) == set()
}

test_every_code_of_the_area_is_listed if {
	accounts.deny_codes == {"role_not_permitted", "permission_missing", "subscription_requires_top_admin"}
	accounts.grant_codes == {
		"top_admin", "sub_admin", "add_clients", "practice_insights",
		"manage_financial_data", "manage_business", "create_expense_claims",
	}
}
