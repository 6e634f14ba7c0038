package clearance.validation_test

import data.clearance.validation

_subject := {
	"id": "u1", "found": true, "account_id": "a1", "role": "standard", "status": "active",
	"client_access_mode": null, "permissions": {"publishing": "all"}, "xpm_staff_id": null,
}

_account := {"id": "a1", "kind": "practice", "name": "Practice"}

_request(action, resource) := {"action": action, "subject": _subject, "account": _account, "resource": resource}

_found(type, facts) := object.union(
	{"type": type, "id": "r1", "attributes": {}, "found": true, "account_id": "a1"},
	facts,
)

_client_facts := {"ledger": "xero", "allocated": true, "ledger_access": false}

test_a_well_formed_request_has_no_problems if {
	validation.problems(_request("client.view", _found("client", _client_facts))) == set()
}

test_input_that_is_not_an_object_has_one_problem if {
	validation.problems(42) == {"input must be an object"}
}

test_an_empty_object_misses_action_subject_and_resource if {
	validation.problems({}) == {"action must be a string", "subject must be an object", "resource must be an object"}
}

test_an_unknown_subject_needs_only_an_id if {
	request := object.union(
		_request("client.view", _found("client", _client_facts)),
		{"subject": {"id": "u9", "found": false}, "account": null},
	)
	validation.problems(request) == set()
}

test_a_found_subject_needs_its_facts if {
	request := {
		"action": "client.view",
		"subject": {"id": "u1", "found": true},
		"resource": _found("client", _client_facts),
	}
	validation.problems(request) == {
		"subject.account_id must be a string",
		"subject.role must be a known role",
		"subject.status must be active or suspended",
		"account must be an object",
		"account.id must be a string",
		"account.kind must be practice or business",
	}
}

test_permissions_must_have_their_types if {
	subject := object.union(_subject, {"permissions": {"add_clients": "yes", "publishing": "some"}})
	request := object.union(_request("client.view", _found("client", _client_facts)), {"subject": subject})
	validation.problems(request) == {
		"subject.permissions.add_clients must be a boolean or null",
		"subject.permissions.publishing must be all, expense_claims_only, none or null",
	}
}

test_a_client_access_mode_must_be_known if {
	subject := object.union(_subject, {"client_access_mode": "some"})
	request := object.union(_request("client.view", _found("client", _client_facts)), {"subject": subject})
	validation.problems(request) == {
		"subject.client_access_mode must be all, selected, ledger_all, ledger_selected or null",
	}
}

test_the_subjects_account_must_be_the_one_given if {
	other := {"id": "a2", "kind": "practice"}
	request := object.union(_request("client.view", _found("client", _client_facts)), {"account": other})
	validation.problems(request) == {"account.id must equal subject.account_id"}
}

test_the_subjects_role_must_belong_to_the_account_kind if {
	subject := object.union(_subject, {"role": "user_admin"})
	request := object.union(_request("client.view", _found("client", _client_facts)), {"subject": subject})
	validation.problems(request) == {"subject.role must belong to account.kind"}
}

test_a_resource_needs_a_known_type if {
	request := _request("client.view", {"id": "c1", "found": true, "account_id": "a1"})
	validation.problems(request) == {"resource.type must be client, account, user or item"}
}

test_attributes_must_be_an_object_of_strings if {
	user := _found("user", {
		"role": "standard", "status": "active", "attributes": {"role": 7, "client_id": true},
		"attribute_client": {"id": "c1", "found": false},
	})
	validation.problems(_request("user.client_access.edit", user)) == {
		"resource.attributes.role must be a string or null",
		"resource.attributes.client_id must be a string or null",
	}
}

test_user_create_needs_neither_id_nor_found if {
	validation.problems(_request("user.create", {"type": "user"})) == set()
}

test_other_actions_need_id_and_found if {
	problems := validation.problems(_request("user.view", {"type": "user"}))
	problems == {"resource.id must be a string", "resource.found must be a boolean"}
}

test_a_resource_not_found_needs_no_facts if {
	validation.problems(_request("item.view", {"type": "item", "id": "i1", "found": false})) == set()
}

test_a_found_client_needs_its_facts if {
	validation.problems(_request("client.view", _found("client", {"ledger": "sage"}))) == {
		"resource.ledger must be xero, myob, quickbooks or none",
		"resource.allocated must be a boolean",
		"resource.ledger_access must be a boolean",
	}
}

test_a_found_account_needs_its_kind if {
	request := _request("settings.view", object.union(_found("account", {}), {"account_id": 1}))
	validation.problems(request) == {"resource.account_id must be a string", "resource.kind must be practice or business"}
}

test_a_found_user_needs_role_and_status if {
	validation.problems(_request("user.view", _found("user", {"role": "owner"}))) == {
		"resource.role must be a known role",
		"resource.status must be active or suspended",
	}
}

test_a_client_to_allocate_needs_its_facts if {
	user := _found("user", {"role": "standard", "status": "active", "attributes": {"client_id": "c1"}})
	validation.problems(_request("user.client_access.edit", user)) == {
		"resource.attribute_client must be an object",
		"resource.attribute_client.found must be a boolean",
	}
	found := object.union(user, {"attribute_client": {"id": "c1", "found": true}})
	validation.problems(_request("user.client_access.edit", found)) == {
		"resource.attribute_client.account_id must be a string",
		"resource.attribute_client.ledger must be xero, myob, quickbooks or none",
		"resource.attribute_client.ledger_access must be a boolean",
		"resource.attribute_client.subject_allocated must be a boolean",
		"resource.attribute_client.subject_ledger_access must be a boolean",
	}
}

test_a_found_item_needs_owner_and_kind if {
	validation.problems(_request("item.view", _found("item", {"client_id": null}))) == {
		"resource.owner_user_id must be a string",
		"resource.kind must be expense_claim, receipt or invoice",
	}
}

test_an_item_of_a_client_needs_the_clients_facts if {
	item := _found("item", {"client_id": "c1", "owner_user_id": "u1", "kind": "receipt"})
	validation.problems(_request("item.view", item)) == {
		"resource.client must be an object",
		"resource.client.account_id must be a string",
		"resource.client.ledger must be xero, myob, quickbooks or none",
		"resource.client.allocated must be a boolean",
		"resource.client.ledger_access must be a boolean",
	}
}

test_well_formed_requests_of_every_kind_have_no_problems if {
	subject := object.union(_subject, {"permissions": null, "client_access_mode": "ledger_all", "xpm_staff_id": "x1"})
	requests := [
		_request("client.view", _found("client", {"ledger": "quickbooks", "allocated": false, "ledger_access": false})),
		_request("item.view", _found("item", {
			"client_id": "c1", "owner_user_id": "u1", "kind": "invoice",
			"client": {"id": "c1", "account_id": "a1", "ledger": "none", "allocated": true, "ledger_access": false},
		})),
		_request("user.client_access.edit", _found("user", {
			"role": "standard", "status": "active", "attributes": {"client_id": "c1"},
			"attribute_client": {
				"id": "c1", "found": true, "account_id": "a1", "ledger": "xero", "ledger_access": true,
				"subject_allocated": false, "subject_ledger_access": true,
			},
		})),
		_request("user.client_access.edit", _found("user", {
			"role": "standard", "status": "suspended", "attributes": {"client_id": "c9"},
			"attribute_client": {"id": "c9", "found": false},
		})),
	]
	every request in requests {
		validation.problems(object.union(request, {"subject": subject})) == set()
	}
}

test_every_publishing_value_is_accepted if {
	every publishing in ["all", "expense_claims_only", "none", null] {
		subject := object.union(_subject, {"permissions": {"publishing": publishing}})
		request := object.union(_request("client.view", _found("client", _client_facts)), {"subject": subject})
		validation.problems(request) == set()
	}
}

test_a_list_row_is_checked_as_the_client_it_stands_for if {
	request := _request("client.view", null)
	validation.client_problems(request, ["c1", "a1", "xero", true, false]) == set()
	validation.client_problems(request, [1, "a1", "sage", "yes", null]) == {
		"resource.id must be a string",
		"resource.ledger must be xero, myob, quickbooks or none",
		"resource.allocated must be a boolean",
		"resource.ledger_access must be a boolean",
	}
}

test_a_list_row_that_is_not_five_values_has_one_problem if {
	every row in [["c1", "a1", "xero", true], "c1", null, {"id": "c1"}] {
		validation.client_problems(_request("client.view", null), row) == {
			"client must be an array of id, account_id, ledger, allocated and ledger_access",
		}
	}
}

test_the_facts_of_a_list_row_are_not_checked_for_user_create if {
	validation.client_problems(_request("user.create", null), ["c1", 2, "sage", true, true]) == set()
}

test_the_problems_of_a_request_leave_out_its_resource if {
	validation.request_problems(_request("client.view", "not a resource")) == set()
	validation.resource_problems(_request("client.view", null), "not a resource") == {"resource must be an object"}
}

# ---- proposed values (SPEC §2.4a) -----------------------------------------------------------

_user_target := _found("user", {"role": "standard", "status": "active"})

_proposing(action, attributes) := _request(action, object.union(_user_target, {"attributes": attributes}))

test_every_proposed_value_of_a_user_is_checked_for_its_type if {
	attributes := {
		"role": 1, "client_access_mode": "everything", "permissions": [], "status": "gone",
		"xpm_staff_id": 7,
	}
	validation.problems(_proposing("user.update", attributes)) == {
		"resource.attributes.role must be a string or null",
		"resource.attributes.client_access_mode must be all, selected, ledger_all, ledger_selected or null",
		"resource.attributes.permissions must be an object or null",
		"resource.attributes.status must be active, suspended or null",
		"resource.attributes.xpm_staff_id must be a string or null",
	}
}

test_proposed_permissions_must_be_permissions_of_their_types if {
	attributes := {"permissions": {"manage_business": "yes", "publishing": "some", "billing": true}}
	validation.problems(_request("user.create", {"type": "user", "attributes": attributes})) == {
		"resource.attributes.permissions.manage_business must be a boolean or null",
		"resource.attributes.permissions.publishing must be all, expense_claims_only, none or null",
		"resource.attributes.permissions.billing is not a permission",
	}
}

test_well_typed_proposed_values_have_no_problems if {
	attributes := {
		"role": "client_admin", "client_access_mode": null, "status": "suspended", "xpm_staff_id": null,
		"permissions": {
			"add_clients": true, "practice_insights": null, "manage_business": false,
			"create_expense_claims": true, "publishing": "expense_claims_only",
		},
	}
	validation.problems(_proposing("user.update", attributes)) == set()
	validation.problems(_request("user.create", {"type": "user", "attributes": attributes})) == set()
}

test_attributes_of_other_resource_types_stay_free_form if {
	attributes := {"role": 7, "client_access_mode": "everything", "permissions": "all", "status": 0}
	request := _request("client.view", object.union(_found("client", _client_facts), {"attributes": attributes}))
	validation.problems(request) == set()
}

test_user_profile_edit_never_takes_the_practice_manager_link if {
	validation.problems(_proposing("user.profile.edit", {"xpm_staff_id": "s1", "name": "Jo"})) == {
		"resource.attributes.xpm_staff_id cannot be proposed with user.profile.edit (ask user.xpm_link.edit)",
	}
	validation.problems(_proposing("user.profile.edit", {"xpm_staff_id": null})) == {
		"resource.attributes.xpm_staff_id cannot be proposed with user.profile.edit (ask user.xpm_link.edit)",
	}
}

test_user_profile_edit_takes_no_access_value_and_xpm_link_edit_only_the_link if {
	validation.problems(_proposing("user.profile.edit", {"role": "practice_admin", "status": null})) == {
		"resource.attributes.role cannot be proposed with user.profile.edit (ask user.update)",
	}
	validation.problems(_proposing("user.xpm_link.edit", {"xpm_staff_id": "s1", "permissions": {}})) == {
		"resource.attributes.permissions cannot be proposed with user.xpm_link.edit (ask user.update)",
	}
	validation.problems(_proposing("user.xpm_link.edit", {"xpm_staff_id": null})) == set()
}

test_only_user_client_access_edit_takes_a_client_to_allocate if {
	validation.problems(_proposing("user.update", {"client_id": "c1"})) == {
		"resource.attributes.client_id cannot be proposed with user.update (ask user.client_access.edit)",
		"resource.attribute_client must be an object",
		"resource.attribute_client.found must be a boolean",
	}
	validation.problems(_proposing("user.update", {"client_id": null})) == set()
}

test_actions_that_change_no_field_do_not_read_the_proposed_values if {
	every action in {"user.view", "user.suspend", "user.enable", "user.remove"} {
		validation.problems(_proposing(action, {"role": "practice_admin", "xpm_staff_id": "s1"})) == set()
	}
}

test_user_create_with_an_id_is_refused_naming_the_id if {
	validation.problems(_request("user.create", {"type": "user", "id": "u-elsewhere", "attributes": {}})) == {
		"resource.id must not be given for user.create: it names no existing user",
	}
	found := object.union(_user_target, {"account_id": "a2"})
	validation.problems(_request("user.create", found)) == {
		"resource.id must not be given for user.create: it names no existing user",
	}
	validation.problems(_request("user.create", {"type": "user", "id": null})) == {
		"resource.id must not be given for user.create: it names no existing user",
	}
}

test_a_found_user_needs_its_permissions_and_link_typed if {
	user := object.union(_user_target, {"permissions": {"publishing": "lots"}, "xpm_staff_id": 3})
	validation.problems(_request("user.view", user)) == {
		"resource.permissions.publishing must be all, expense_claims_only, none or null",
		"resource.xpm_staff_id must be a string or null",
	}
	validation.problems(_request("user.view", object.union(_user_target, {"permissions": "none"}))) == {
		"resource.permissions must be an object or null",
	}
	linked := object.union(_user_target, {"permissions": {"manage_business": true}, "xpm_staff_id": "s1"})
	validation.problems(_request("user.view", linked)) == set()
}

# The one-pass check of the common case and the full check agree (the differential test asks
# the same of every input of its corpus).
test_the_one_pass_check_agrees_with_the_full_check if {
	every req in [
		42,
		{},
		_request("client.view", _found("client", _client_facts)),
		_request("client.view", _found("client", {"ledger": "sage"})),
		_request("client.view", {"type": "client", "id": "c1", "found": false}),
		_request("user.create", {"type": "user", "attributes": {"role": "standard"}}),
		_request("user.create", {"type": "user", "id": "u2"}),
		_proposing("user.update", {"role": 7, "permissions": {"publishing": "all", "admin": true}}),
		_request("item.view", _found("item", {"client_id": "c1", "owner_user_id": "u1", "kind": "receipt"})),
		object.union(_request("client.view", _found("client", _client_facts)), {"subject": {"id": "u1", "found": true}}),
		object.union(_request("client.view", _found("client", _client_facts)), {"action": null}),
	] {
		validation.precheck_agrees(req)
	}
}
