package clearance.clients_test

import data.clearance.clients

_xero_client := {"ledger": "xero", "allocated": false, "ledger_access": false}

_myob_client := {"ledger": "myob", "allocated": false, "ledger_access": false}

_user(role, mode) := {"id": "u1", "role": role, "client_access_mode": mode, "xpm_staff_id": "s1"}

_request(action, user, client) := {"action": action, "subject": user, "resource": client}

_access_denials(user, client) := clients.access_denials(clients.access(user), client)

_access_grants(user, client) := clients.access_grants(clients.access(user), client)

test_practice_admin_always_has_client_access if {
	_access_denials(_user("practice_admin", "selected"), _xero_client) == set()
	_access_grants(_user("practice_admin", "selected"), _xero_client) == {"top_admin"}
}

test_expense_approver_never_has_client_access if {
	_access_denials(_user("expense_approver", null), _myob_client) == {"role_not_permitted"}
	_access_grants(_user("expense_approver", null), _myob_client) == set()
}

test_mode_all_gives_access_to_every_client if {
	_access_denials(_user("standard", "all"), _xero_client) == set()
	_access_grants(_user("standard", "all"), _xero_client) == {"client_access_all"}
}

test_client_admin_without_a_mode_has_access_to_all_clients if {
	_access_grants(_user("client_admin", null), _xero_client) == {"client_access_all"}
}

test_standard_user_without_a_mode_needs_the_client_allocated if {
	_access_denials(_user("standard", null), _myob_client) == {"client_not_allocated"}
}

test_selected_mode_denies_a_client_not_allocated if {
	_access_denials(_user("client_admin", "selected"), _xero_client) == {"client_not_allocated"}
}

test_selected_mode_grants_an_allocated_client if {
	client := object.union(_xero_client, {"allocated": true})
	_access_denials(_user("standard", "selected"), client) == set()
	_access_grants(_user("standard", "selected"), client) == {"client_allocated"}
}

test_ledger_all_needs_ledger_access_to_a_xero_client if {
	_access_denials(_user("standard", "ledger_all"), _xero_client) == {"ledger_access_required"}
}

test_ledger_all_grants_a_xero_client_with_ledger_access if {
	client := object.union(_xero_client, {"ledger_access": true})
	_access_grants(_user("standard", "ledger_all"), client) == {"ledger_access"}
}

test_ledger_all_grants_clients_of_other_ledgers if {
	_access_denials(_user("standard", "ledger_all"), _myob_client) == set()
	_access_grants(_user("standard", "ledger_all"), _myob_client) == {"client_access_all"}
}

test_ledger_selected_without_allocation_or_ledger_access_gives_both_codes if {
	denials := _access_denials(_user("standard", "ledger_selected"), _xero_client)
	denials == {"client_not_allocated", "ledger_access_required"}
}

test_ledger_selected_grants_an_allocated_xero_client_with_ledger_access if {
	client := object.union(_xero_client, {"allocated": true, "ledger_access": true})
	_access_denials(_user("client_admin", "ledger_selected"), client) == set()
	_access_grants(_user("client_admin", "ledger_selected"), client) == {"client_allocated", "ledger_access"}
}

test_ledger_selected_needs_only_the_allocation_for_other_ledgers if {
	_access_denials(_user("standard", "ledger_selected"), _myob_client) == {"client_not_allocated"}
	client := object.union(_myob_client, {"allocated": true})
	_access_grants(_user("standard", "ledger_selected"), client) == {"client_allocated"}
}

test_time_push_needs_an_xpm_link if {
	user := object.union(_user("practice_admin", null), {"xpm_staff_id": null})
	clients.denials(_request("time.push", user, _xero_client)) == {"xpm_link_required"}
}

test_time_push_without_client_access_or_xpm_link_gives_both_codes if {
	user := object.union(_user("standard", "selected"), {"xpm_staff_id": null})
	clients.denials(_request("time.push", user, _myob_client)) == {"client_not_allocated", "xpm_link_required"}
}

test_time_push_with_access_and_xpm_link_is_granted_by_both if {
	clients.denials(_request("time.push", _user("standard", "all"), _myob_client)) == set()
	clients.grants(_request("time.push", _user("standard", "all"), _myob_client)) == {"client_access_all", "xpm_linked"}
}

test_other_client_actions_do_not_need_an_xpm_link if {
	user := object.union(_user("standard", "all"), {"xpm_staff_id": null})
	clients.denials(_request("task.assign", user, _myob_client)) == set()
	clients.grants(_request("task.assign", user, _myob_client)) == {"client_access_all"}
}

test_every_code_of_the_area_is_listed if {
	clients.deny_codes == {"role_not_permitted", "client_not_allocated", "ledger_access_required", "xpm_link_required"}
	clients.grant_codes == {"top_admin", "client_access_all", "client_allocated", "ledger_access", "xpm_linked"}
}

test_access_follows_the_role_and_the_client_access_mode if {
	clients.access(_user("practice_admin", "selected")) == "top_admin"
	clients.access(_user("standard", null)) == "selected"
	clients.access(_user("client_admin", null)) == "all"
	clients.access(_user("client_admin", "ledger_all")) == "ledger_all"
	clients.access(_user("expense_approver", "all")) == "none"
	clients.access(_user("business_admin", null)) == "none"
}
