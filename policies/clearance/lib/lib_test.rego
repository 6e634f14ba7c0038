package clearance.lib_test

import data.clearance.lib

test_practice_admin_and_business_admin_are_top_admins if {
	lib.is_top_admin({"role": "practice_admin"})
	lib.is_top_admin({"role": "business_admin"})
	not lib.is_top_admin({"role": "client_admin"})
}

test_client_admin_and_user_admin_are_sub_admins if {
	lib.is_sub_admin({"role": "client_admin"})
	lib.is_sub_admin({"role": "user_admin"})
	not lib.is_sub_admin({"role": "practice_admin"})
}

test_admins_are_top_and_sub_admins_only if {
	every role in {"practice_admin", "business_admin", "client_admin", "user_admin"} {
		lib.is_admin({"role": role})
	}
	not lib.is_admin({"role": "standard"})
	not lib.is_admin({"role": "expense_approver"})
}

test_top_admin_role_follows_the_account_kind if {
	lib.top_admin_role("practice") == "practice_admin"
	lib.top_admin_role("business") == "business_admin"
}

test_each_account_kind_has_its_own_admin_roles if {
	every role in {"practice_admin", "client_admin"} {
		lib.role_of_kind(role, "practice")
		not lib.role_of_kind(role, "business")
	}
	every role in {"business_admin", "user_admin"} {
		lib.role_of_kind(role, "business")
		not lib.role_of_kind(role, "practice")
	}
}

test_standard_and_expense_approver_exist_in_both_kinds if {
	every role in {"standard", "expense_approver"} {
		lib.role_of_kind(role, "practice")
		lib.role_of_kind(role, "business")
	}
}

test_a_role_of_neither_kind_is_unknown if {
	lib.known_role("standard")
	not lib.known_role("owner")
}

test_a_set_permission_is_returned if {
	lib.permission({"permissions": {"publishing": "all"}}, "publishing") == "all"
	lib.has_permission({"permissions": {"add_clients": true}}, "add_clients")
}

test_a_missing_or_null_permission_is_off if {
	lib.permission({"permissions": {}}, "publishing") == "none"
	lib.permission({"permissions": {"publishing": null}}, "publishing") == "none"
	lib.permission({"permissions": null}, "manage_business") == false
	lib.permission({}, "add_clients") == false
	not lib.has_permission({"permissions": {"add_clients": false}}, "add_clients")
}

test_client_access_mode_defaults_to_all_for_client_admins if {
	lib.client_access_mode({"role": "client_admin", "client_access_mode": null}) == "all"
}

test_client_access_mode_defaults_to_selected_for_standard_users if {
	lib.client_access_mode({"role": "standard"}) == "selected"
}

test_a_set_client_access_mode_wins_over_the_default if {
	lib.client_access_mode({"role": "standard", "client_access_mode": "ledger_all"}) == "ledger_all"
	lib.client_access_mode({"role": "client_admin", "client_access_mode": "selected"}) == "selected"
}

test_an_unknown_client_access_mode_gives_the_role_default if {
	lib.client_access_mode({"role": "standard", "client_access_mode": "everything"}) == "selected"
}

test_roles_without_a_client_access_mode_get_none if {
	lib.client_access_mode({"role": "practice_admin", "client_access_mode": "selected"}) == "none"
	lib.client_access_mode({"role": "expense_approver"}) == "none"
}

test_an_xpm_link_needs_a_non_empty_staff_id if {
	lib.has_xpm_link({"xpm_staff_id": "s1"})
	not lib.has_xpm_link({"xpm_staff_id": ""})
	not lib.has_xpm_link({"xpm_staff_id": null})
}
