package clearance_test

import data.clearance
import data.clearance.accounts
import data.clearance.clients
import data.clearance.items
import data.clearance.users

_practice := {"id": "a1", "kind": "practice", "name": "Practice"}

_business := {"id": "a1", "kind": "business", "name": "Business"}

_subject(role) := {
	"id": "u1", "found": true, "account_id": "a1", "role": role, "status": "active",
	"client_access_mode": null, "permissions": {}, "xpm_staff_id": null,
}

_client(id, facts) := object.union(
	{
		"type": "client", "id": id, "attributes": {}, "found": true, "account_id": "a1",
		"ledger": "xero", "allocated": false, "ledger_access": false,
	},
	facts,
)

_own_account := {"type": "account", "id": "a1", "attributes": {}, "found": true, "account_id": "a1", "kind": "practice"}

_request(action, subject, account, resource) := {
	"action": action,
	"subject": subject,
	"account": account,
	"resource": resource,
}

_codes(decision) := {reason.code | some reason in decision.reasons}

test_decision_answers_the_input if {
	request := _request("client.view", _subject("practice_admin"), _practice, _client("c1", {}))
	clearance.decision == {
		"allow": true,
		"reasons": [{"code": "top_admin", "message": "the user is the account's top admin"}],
	} with input as request
}

test_verdict_is_the_decision_in_compact_form if {
	subject := object.union(_subject("standard"), {"client_access_mode": "ledger_selected"})
	request := _request("client.view", subject, _practice, _client("c1", {}))
	clearance.verdict == [false, "client_not_allocated", "ledger_access_required"] with input as request
	clearance.verdict == [false, {"code": "invalid_input", "message": "input must be an object"}] with input as 7
	clearance.verdict == [false, {"code": "invalid_input", "message": "input is missing"}]
}

test_logged_verdict_is_the_verdict_with_the_masks_of_its_entry if {
	resource := object.union(_client("c1", {}), {"attributes": {"note": "caller data"}})
	request := _request("client.view", _subject("practice_admin"), _practice, resource)
	masks := {"/input/account/name", "/input/resource/attributes/note"}
	clearance.logged_verdict == [[true, "top_admin"], masks] with input as {"endpoint": "decide", "input": request}
	clearance.verdict == [true, "top_admin"] with input as request
}

test_logged_verdict_of_an_invalid_request_masks_what_log_mask_masks if {
	request := {"action": "client.view", "account": {"id": "a1", "name": "Practice"}}
	[verdict, masks] := clearance.logged_verdict with input as {"endpoint": "batch", "input": request}
	plain := clearance.verdict with input as request
	verdict == plain
	verdict[0] == false
	masks == {"/input/account/name"}
}

test_logged_verdict_needs_a_request if {
	not clearance.logged_verdict with input as {"endpoint": "decide"}
}

test_decision_without_input_is_an_invalid_input_deny if {
	clearance.decision == {"allow": false, "reasons": [{"code": "invalid_input", "message": "input is missing"}]}
}

test_decision_of_a_non_object_input_is_an_invalid_input_deny if {
	clearance.decision == {
		"allow": false,
		"reasons": [{"code": "invalid_input", "message": "input must be an object"}],
	} with input as ["client.view"]
}

test_a_resource_without_type_is_invalid_input if {
	request := _request("client.view", _subject("practice_admin"), _practice, {"id": "c1", "found": true})
	_codes(clearance.decide(request)) == {"invalid_input"}
}

test_invalid_input_skips_every_other_rule if {
	subject := object.union(_subject("standard"), {"status": "suspended", "permissions": "all"})
	decision := clearance.decide(_request("nope", subject, _practice, _client("c1", {})))
	decision.allow == false
	decision.reasons == [{"code": "invalid_input", "message": "subject.permissions must be an object or null"}]
}

# A client as a list gives it: [id, account_id, ledger, allocated, ledger_access].
_row(id, ledger, allocated, ledger_access) := [id, "a1", ledger, allocated, ledger_access]

# The client resource a row stands for.
_row_resource(row) := {
	"type": "client", "id": row[0], "attributes": {}, "found": true,
	"account_id": row[1], "ledger": row[2], "allocated": row[3], "ledger_access": row[4],
}

# A decision in the compact form of a list: a reason with the table's message is its code.
_entry(decision) := array.concat([decision.allow], [_compact(reason) | some reason in decision.reasons])

_compact(reason) := reason.code if {
	clearance.messages[reason.code] == reason.message
} else := reason

_list(action, subject, rows) := {"action": action, "subject": subject, "account": _practice, "clients": rows}

# The decision of each client of a list, in order.
_expanded(decisions) := [decisions.outcomes[i] | some i in decisions.clients]

test_a_list_gives_each_distinct_decision_once if {
	rows := [_row("c1", "xero", true, true), _row("c2", "myob", false, false), _row("c3", "none", true, false)]
	subject := object.union(_subject("standard"), {"client_access_mode": "selected"})
	decisions := clearance.decisions with input as _list("client.view", subject, rows)
	decisions == {"outcomes": [[false, "client_not_allocated"], [true, "client_allocated"]], "clients": [1, 0, 1]}
}

test_decisions_answer_each_client_in_order if {
	rows := [_row("c2", "xero", true, false), _row("c1", "xero", false, false), _row("c3", "myob", true, false)]
	subject := object.union(_subject("standard"), {"client_access_mode": "selected"})
	answers := _expanded(clearance.decisions) with input as _list("client.view", subject, rows)
	[answer[0] | some answer in answers] == [true, false, true]
	every i, row in rows {
		answers[i] == _entry(clearance.decide(_request("client.view", subject, _practice, _row_resource(row))))
	}
}

test_decisions_give_codes_whose_messages_are_in_the_table if {
	subject := object.union(_subject("standard"), {"client_access_mode": "ledger_selected"})
	list_input := _list("client.view", subject, [_row("c1", "xero", false, false)])
	answers := _expanded(clearance.decisions) with input as list_input
	answers == [[false, "client_not_allocated", "ledger_access_required"]]
}

test_decisions_of_a_list_for_time_push_need_the_xpm_link_for_every_client if {
	subject := object.union(_subject("practice_admin"), {"xpm_staff_id": null})
	rows := [_row("c1", "xero", false, false), _row("c2", "none", true, true)]
	answers := _expanded(clearance.decisions) with input as _list("time.push", subject, rows)
	answers == [[false, "xpm_link_required"], [false, "xpm_link_required"]]
}

test_a_client_of_another_account_in_a_list_is_a_tenant_mismatch if {
	rows := [["c1", "a2", "xero", true, true], _row("c2", "xero", true, true)]
	answers := _expanded(clearance.decisions) with input as _list("client.view", _subject("practice_admin"), rows)
	answers == [[false, "tenant_mismatch"], [true, "top_admin"]]
}

test_a_list_for_an_action_of_another_resource_type_is_refused_for_every_client if {
	list_input := _list("settings.view", _subject("practice_admin"), [_row("c1", "xero", true, true)])
	answers := _expanded(clearance.decisions) with input as list_input
	answers == [[false, "resource_type_mismatch"]]
	resource := _row_resource(_row("c1", "xero", true, true))
	answers == [_entry(clearance.decide(_request("settings.view", _subject("practice_admin"), _practice, resource)))]
}

test_a_list_for_an_unknown_subject_refuses_every_client if {
	input_list := {
		"action": "client.view", "subject": {"id": "u9", "found": false}, "account": null,
		"clients": [_row("c1", "xero", true, true)],
	}
	answers := _expanded(clearance.decisions) with input as input_list
	answers == [[false, "unknown_subject"]]
}

test_a_list_row_with_a_wrong_value_is_invalid_input_naming_the_field if {
	rows := [["c1", "a1", "sage", true, false]]
	answers := _expanded(clearance.decisions) with input as _list("client.view", _subject("practice_admin"), rows)
	answers == [[false, {"code": "invalid_input", "message": "resource.ledger must be xero, myob, quickbooks or none"}]]
	request := _request("client.view", _subject("practice_admin"), _practice, _row_resource(rows[0]))
	answers == [_entry(clearance.decide(request))]
}

test_a_list_row_that_is_not_five_values_is_invalid_input if {
	list_input := _list("client.view", _subject("practice_admin"), [["c1", "a1"], "c2"])
	answers := _expanded(clearance.decisions) with input as list_input
	every answer in answers {
		answer == [false, {
			"code": "invalid_input",
			"message": "client must be an array of id, account_id, ledger, allocated and ledger_access",
		}]
	}
}

test_a_problem_of_the_subject_is_given_for_every_client_with_the_clients_own if {
	subject := object.union(_subject("standard"), {"status": "gone"})
	list_input := _list("client.view", subject, [["c1", "a1", "xero", "yes", false]])
	answers := _expanded(clearance.decisions) with input as list_input
	answers == [[
		false,
		{"code": "invalid_input", "message": "resource.allocated must be a boolean"},
		{"code": "invalid_input", "message": "subject.status must be active or suspended"},
	]]
}

test_decisions_are_empty_without_a_list_of_clients if {
	none := {"outcomes": [], "clients": []}
	clearance.decisions == none with input as {"action": "client.view", "clients": {"c1": {}}}
	resources := [_row_resource(_row("c1", "xero", true, true))]
	clearance.decisions == none with input as {"action": "client.view", "resources": resources}
	clearance.decisions == none with input as {"action": "client.view", "clients": []}
}

test_decisions_keep_a_missing_field_missing if {
	row := _row("c1", "xero", true, true)
	answers := _expanded(clearance.decisions) with input as {"action": "client.view", "clients": [row]}
	answers[0] == _entry(clearance.decide({"action": "client.view", "resource": _row_resource(row)}))
	{"code": "invalid_input", "message": "subject must be an object"} in answers[0]
}

test_a_list_without_an_action_checks_no_facts_of_its_clients if {
	row := ["c1", 5, "sage", true, true]
	list_input := {"subject": _subject("standard"), "account": _practice, "clients": [row]}
	answers := _expanded(clearance.decisions) with input as list_input
	answers == [[false, {"code": "invalid_input", "message": "action must be a string"}]]
	request := {"subject": _subject("standard"), "account": _practice, "resource": _row_resource(row)}
	answers[0] == _entry(clearance.decide(request))
}

test_a_list_for_user_create_checks_no_facts_of_its_clients if {
	row := ["c1", 5, "sage", true, true]
	answers := _expanded(clearance.decisions) with input as _list("user.create", _subject("practice_admin"), [row])
	answers == [[false, "resource_type_mismatch"]]
}

test_a_list_for_an_action_outside_the_catalogue_refuses_every_client if {
	list_input := _list("client.fly", _subject("practice_admin"), [_row("c1", "xero", true, true)])
	answers := _expanded(clearance.decisions) with input as list_input
	answers == [[false, "unknown_action"]]
}

test_a_list_for_a_client_action_without_own_rules_is_decided_by_client_access if {
	list_input := _list("client.fly", _subject("practice_admin"), [_row("c1", "xero", true, true)])
	answers := _expanded(clearance.decisions) with input as list_input
		with data.clearance.catalogue.resource_type as _with_client_fly
	answers == [[true, "top_admin"]]
}

test_a_list_denies_by_default_when_no_rule_grants if {
	list_input := _list("client.view", _subject("practice_admin"), [_row("c1", "xero", true, true)])
	answers := _expanded(clearance.decisions) with input as list_input
		with data.clearance.clients.access_grants as set()
	answers == [[false, "no_rule_matched"]]
}

# A catalogue with a client action that has no rules of its own.
_with_client_fly("client.fly") := "client"

test_an_unknown_subject_is_denied if {
	request := _request("client.view", {"id": "u9", "found": false}, null, _client("c1", {}))
	_codes(clearance.decide(request)) == {"unknown_subject"}
}

test_every_always_first_code_that_applies_is_listed if {
	request := _request("client.fly", {"id": "u9", "found": false}, null, {"type": "client", "id": "c9", "found": false})
	_codes(clearance.decide(request)) == {"unknown_action", "unknown_subject", "resource_not_found"}
}

test_an_unknown_action_is_denied if {
	decision := clearance.decide(_request("client.delete", _subject("practice_admin"), _practice, _client("c1", {})))
	_codes(decision) == {"unknown_action"}
}

test_a_suspended_user_is_denied_before_area_rules if {
	subject := object.union(_subject("standard"), {"status": "suspended"})
	decision := clearance.decide(_request("client.view", subject, _practice, _client("c1", {})))
	_codes(decision) == {"user_suspended"}
}

test_a_resource_of_another_account_is_a_tenant_mismatch if {
	request := _request("client.view", _subject("practice_admin"), _practice, _client("c1", {"account_id": "a2"}))
	_codes(clearance.decide(request)) == {"tenant_mismatch"}
}

test_another_account_is_a_tenant_mismatch_for_account_actions if {
	account := object.union(_own_account, {"id": "a2", "account_id": "a2"})
	request := _request("settings.view", _subject("practice_admin"), _practice, account)
	_codes(clearance.decide(request)) == {"tenant_mismatch"}
}

test_a_resource_of_the_wrong_type_is_refused_first if {
	request := _request("settings.view", _subject("practice_admin"), _practice, _client("c1", {}))
	_codes(clearance.decide(request)) == {"resource_type_mismatch"}
}

test_user_create_needs_no_existing_resource if {
	resource := {"type": "user", "attributes": {"role": "standard"}}
	request := _request("user.create", _subject("practice_admin"), _practice, resource)
	clearance.decide(request).allow == true
}

test_the_spec_example_gives_both_client_codes_in_order if {
	subject := object.union(_subject("standard"), {"client_access_mode": "ledger_selected"})
	decision := clearance.decide(_request("client.view", subject, _practice, _client("c1", {})))
	decision == {"allow": false, "reasons": [
		{"code": "client_not_allocated", "message": "the client is not allocated to the user"},
		{"code": "ledger_access_required", "message": "needs ledger access to this client in Xero first"},
	]}
}

test_time_push_without_access_or_xpm_link_gives_both_codes if {
	subject := object.union(_subject("standard"), {"client_access_mode": "selected"})
	decision := clearance.decide(_request("time.push", subject, _practice, _client("c1", {})))
	_codes(decision) == {"client_not_allocated", "xpm_link_required"}
}

test_expense_approvers_are_not_permitted_client_actions if {
	request := _request("client.console.view", _subject("expense_approver"), _practice, _client("c1", {}))
	decision := clearance.decide(request)
	_codes(decision) == {"role_not_permitted"}
}

test_an_allow_carries_every_granting_rule if {
	subject := object.union(_subject("standard"), {"client_access_mode": "ledger_selected", "xpm_staff_id": "s1"})
	client := _client("c1", {"allocated": true, "ledger_access": true})
	decision := clearance.decide(_request("time.push", subject, _practice, client))
	decision.allow == true
	[reason.code | some reason in decision.reasons] == ["client_allocated", "ledger_access", "xpm_linked"]
}

test_practice_only_actions_are_refused_on_a_business_account if {
	account := object.union(_own_account, {"kind": "business"})
	decision := clearance.decide(_request("processes.manage", _subject("business_admin"), _business, account))
	_codes(decision) == {"account_kind_not_supported"}
}

test_an_action_the_account_kind_lacks_is_refused_before_role_rules if {
	account := object.union(_own_account, {"kind": "business"})
	decision := clearance.decide(_request("client.create", _subject("standard"), _business, account))
	_codes(decision) == {"account_kind_not_supported"}
}

test_an_action_without_an_area_rule_is_denied_by_default if {
	request := _request("settings.delete", _subject("practice_admin"), _practice, _own_account)
	decision := clearance.decide(request) with data.clearance.catalogue.resource_type as _with_settings_delete
	decision == {"allow": false, "reasons": [{"code": "no_rule_matched", "message": "no rule allows this action"}]}
}

test_standard_user_cannot_publish_receipts_when_claims_only if {
	subject := object.union(_subject("standard"), {"permissions": {"publishing": "expense_claims_only"}})
	receipt := {
		"type": "item", "id": "i1", "attributes": {}, "found": true, "account_id": "a1",
		"client_id": null, "owner_user_id": "u1", "kind": "receipt",
	}
	decision := clearance.decide(_request("item.publish", subject, _business, receipt))
	decision == {"allow": false, "reasons": [
		{"code": "permission_missing", "message": "the user does not have the permission this needs"},
	]}
}

test_standard_user_may_publish_own_claims_when_claims_only if {
	subject := object.union(_subject("standard"), {"permissions": {"publishing": "expense_claims_only"}})
	claim := {
		"type": "item", "id": "i1", "attributes": {}, "found": true, "account_id": "a1",
		"client_id": null, "owner_user_id": "u1", "kind": "expense_claim",
	}
	decision := clearance.decide(_request("item.publish", subject, _business, claim))
	[reason.code | some reason in decision.reasons] == ["own_item", "publishing_expense_claims_only"]
	decision.allow == true
}

test_standard_user_may_create_expense_claims_with_the_permission if {
	subject := object.union(_subject("standard"), {"permissions": {"create_expense_claims": true}})
	decision := clearance.decide(_request("expense_claim.create", subject, _practice, _own_account))
	_codes(decision) == {"create_expense_claims"}
	decision.allow == true
}

test_sub_admin_cannot_suspend_the_top_admin if {
	target := {
		"type": "user", "id": "u2", "attributes": {}, "found": true, "account_id": "a1",
		"role": "practice_admin", "status": "active", "client_access_mode": null,
	}
	decision := clearance.decide(_request("user.suspend", _subject("client_admin"), _practice, target))
	_codes(decision) == {"admin_target_protected"}
}

test_client_access_cannot_be_edited_in_a_business_account if {
	target := {
		"type": "user", "id": "u2", "attributes": {}, "found": true, "account_id": "a1",
		"role": "standard", "status": "active", "client_access_mode": null,
	}
	decision := clearance.decide(_request("user.client_access.edit", _subject("business_admin"), _business, target))
	_codes(decision) == {"account_kind_not_supported"}
}

# A catalogue with an account action that no area rule knows.
_with_settings_delete("settings.delete") := "account"

test_every_code_has_a_message if {
	codes := ({"invalid_input", "no_rule_matched"} | _stage_one_codes) | _area_codes
	clearance.reason_codes == codes
	count(clearance.messages) == count(codes)
	every code in codes {
		is_string(clearance.messages[code])
	}
}

test_a_code_without_a_message_is_given_as_its_own_message if {
	clearance._reason("no_such_code") == {"code": "no_such_code", "message": "no_such_code"}
}

_stage_one_codes := {
	"unknown_subject", "resource_not_found", "unknown_action",
	"user_suspended", "tenant_mismatch", "resource_type_mismatch", "account_kind_not_supported",
}

_area_codes := {code |
	some codes in [
		clients.deny_codes, clients.grant_codes, accounts.deny_codes, accounts.grant_codes,
		users.deny_codes, users.grant_codes, items.deny_codes, items.grant_codes,
	]
	some code in codes
}

# ---- SPEC §2.4a through the whole decision --------------------------------------------------

_restricted := object.union(_subject("client_admin"), {"client_access_mode": "selected"})

_colleague := {
	"type": "user", "id": "u2", "attributes": {}, "found": true, "account_id": "a1",
	"role": "standard", "status": "active", "client_access_mode": "selected",
	"permissions": {"publishing": "none"}, "xpm_staff_id": null,
}

_proposal(action, attributes) := _request(
	action, _restricted, _practice,
	object.union(_colleague, {"attributes": attributes}),
)

test_excesses_are_reasons_with_their_own_message_sorted_by_code_then_message if {
	attributes := {"client_access_mode": "all", "permissions": {"manage_business": true}, "role": "user_admin"}
	decision := clearance.decide(_proposal("user.update", attributes))
	decision == {"allow": false, "reasons": [
		{
			"code": "grant_exceeds_own_access",
			"message": "may not give client access mode all: it is broader than the admin's own (selected)",
		},
		{"code": "grant_exceeds_own_access", "message": "may not grant manage_business: the admin does not hold it"},
		{"code": "invalid_role", "message": "the proposed role does not exist for this kind of account"},
	]}
	clearance.verdict_of(_proposal("user.update", attributes)) == [
		false,
		{
			"code": "grant_exceeds_own_access",
			"message": "may not give client access mode all: it is broader than the admin's own (selected)",
		},
		{"code": "grant_exceeds_own_access", "message": "may not grant manage_business: the admin does not hold it"},
		"invalid_role",
	]
}

test_a_restricted_client_admin_cannot_lift_its_own_restriction_through_user_update if {
	request := _request("user.update", _restricted, _practice, object.union(_colleague, {
		"id": "u1", "role": "client_admin",
		"attributes": {"client_access_mode": "all"},
	}))
	_codes(clearance.decide(request)) == {"self_action_not_allowed"}
}

test_a_restricted_client_admin_cannot_create_a_client_admin_with_the_default_mode if {
	resource := {"type": "user", "attributes": {"role": "client_admin"}}
	decision := clearance.decide(_request("user.create", _restricted, _practice, resource))
	decision.allow == false
	_codes(decision) == {"grant_exceeds_own_access"}
}

test_allocating_a_client_the_admin_cannot_see_names_the_client if {
	client := {
		"id": "c9", "found": true, "account_id": "a1", "ledger": "myob", "ledger_access": false,
		"subject_allocated": false, "subject_ledger_access": false,
	}
	resource := object.union(_colleague, {"attributes": {"client_id": "c9"}, "attribute_client": client})
	decision := clearance.decide(_request("user.client_access.edit", _restricted, _practice, resource))
	decision.reasons == [{
		"code": "grant_exceeds_own_access",
		"message": "may not allocate client c9: it is not allocated to the admin",
	}]
}

test_user_xpm_link_edit_does_not_exist_in_business_accounts if {
	target := object.union(_colleague, {"attributes": {"xpm_staff_id": "s1"}})
	decision := clearance.decide(_request("user.xpm_link.edit", _subject("business_admin"), _business, target))
	_codes(decision) == {"account_kind_not_supported"}
}

test_user_create_naming_a_user_of_another_account_is_invalid_input_on_resource_id if {
	resource := object.union(_colleague, {"id": "u-elsewhere", "account_id": "a2", "attributes": {"role": "standard"}})
	decision := clearance.decide(_request("user.create", _subject("practice_admin"), _practice, resource))
	decision == {"allow": false, "reasons": [{
		"code": "invalid_input",
		"message": "resource.id must not be given for user.create: it names no existing user",
	}]}
}

# ---- lists of subjects ------------------------------------------------------------------------

_subjects_list(action, resource, rows) := {"action": action, "account": _practice, "resource": resource, "subjects": rows}

_user(id, role, facts) := object.union(object.union(_subject(role), {"id": id}), facts)

# The decision of each subject of a list, in order.
_per_subject(decisions) := [decisions.outcomes[i] | some i in decisions.subjects]

test_a_list_of_subjects_decides_each_as_its_single_decision if {
	resource := _client("c1", {})
	rows := [
		[_user("u1", "practice_admin", {}), {}],
		[_user("u2", "standard", {}), {"allocated": true}],
		[_user("u3", "standard", {}), {}],
		[_user("u4", "standard", {"client_access_mode": "ledger_selected"}), {"allocated": true}],
		[_user("u5", "standard", {"status": "suspended"}), {"allocated": true}],
	]
	answers := _per_subject(clearance.subject_decisions) with input as _subjects_list("client.view", resource, rows)
	count(answers) == count(rows)
	every i, row in rows {
		single := clearance.decide(_request("client.view", row[0], _practice, object.union(resource, row[1])))
		answers[i] == _entry(single)
	}
	answers[1] == [true, "client_allocated"]
	answers[2] == [false, "client_not_allocated"]
}

test_subjects_that_differ_only_in_id_are_decided_once if {
	rows := [[_user(id, "standard", {}), {}] | some id in ["u1", "u2", "u3", "u4"]]
	decisions := clearance.subject_decisions with input as _subjects_list("client.view", _client("c1", {}), rows)
	decisions == {"outcomes": [[false, "client_not_allocated"]], "subjects": [0, 0, 0, 0]}
}

test_a_subject_that_is_the_resource_keeps_its_id if {
	target := {
		"type": "user", "id": "u2", "attributes": {}, "found": true, "account_id": "a1", "role": "standard",
		"status": "active", "client_access_mode": null, "permissions": {}, "xpm_staff_id": null,
	}
	rows := [[_user("u1", "standard", {}), {}], [_user("u2", "standard", {}), {}]]
	answers := _per_subject(clearance.subject_decisions) with input as _subjects_list("user.profile.edit", target, rows)
	answers == [[false, "role_not_permitted"], [true, "self_service"]]
}

test_an_item_owner_among_subjects_is_decided_as_the_owner if {
	item := {
		"type": "item", "id": "i1", "attributes": {}, "found": true, "account_id": "a1", "client_id": null,
		"owner_user_id": "u2", "kind": "expense_claim",
	}
	rows := [[_user(id, "expense_approver", {}), {}] | some id in ["u1", "u2"]]
	answers := _per_subject(clearance.subject_decisions) with input as _subjects_list("expense_claim.approve", item, rows)
	every i, row in rows {
		answers[i] == _entry(clearance.decide(_request("expense_claim.approve", row[0], _practice, item)))
	}
	answers[0] != answers[1]
}

test_a_subject_row_that_is_not_a_pair_is_invalid_input if {
	rows := [[_user("u1", "standard", {})], "u2", [_user("u3", "standard", {}), 5]]
	answers := _per_subject(clearance.subject_decisions) with input as _subjects_list("client.view", _client("c1", {}), rows)
	invalid := [false, {
		"code": "invalid_input",
		"message": "subject must be an array of a subject and the facts of the resource for it",
	}]
	answers == [invalid, invalid, invalid]
}

test_subject_decisions_are_empty_without_a_list_of_subjects if {
	clearance.subject_decisions == {"outcomes": [], "subjects": []} with input as {"action": "client.view"}
	clearance.subject_decisions == {"outcomes": [], "subjects": []}
}

# ---- lists of resources -----------------------------------------------------------------------

_per_resource(decisions) := [decisions.outcomes[i] | some i in decisions.resources]

_item(id, owner, kind) := {
	"type": "item", "id": id, "attributes": {}, "found": true, "account_id": "a1", "client_id": null,
	"owner_user_id": owner, "kind": kind,
}

test_a_list_of_resources_decides_each_as_its_single_decision if {
	subject := object.union(_subject("standard"), {"permissions": {"create_expense_claims": true}})
	resources := [
		_item("i1", "u1", "expense_claim"),
		_item("i2", "u2", "expense_claim"),
		_item("i3", "u3", "expense_claim"),
		_item("i4", "u1", "receipt"),
	]
	list := {"action": "item.view", "subject": subject, "account": _practice, "resources": resources}
	decisions := clearance.resource_decisions with input as list
	answers := _per_resource(decisions)
	every i, resource in resources {
		answers[i] == _entry(clearance.decide(_request("item.view", subject, _practice, resource)))
	}
	count(decisions.outcomes) < count(resources)
}

_target(id) := {
	"type": "user", "id": id, "attributes": {}, "found": true, "account_id": "a1", "role": "standard",
	"status": "active", "client_access_mode": null, "permissions": {}, "xpm_staff_id": null,
}

test_a_list_of_users_keeps_the_subject_itself_apart if {
	list := {
		"action": "user.profile.edit", "subject": _subject("standard"), "account": _practice,
		"resources": [_target("u1"), _target("u2"), _target("u3")],
	}
	answers := _per_resource(clearance.resource_decisions) with input as list
	answers == [[true, "self_service"], [false, "role_not_permitted"], [false, "role_not_permitted"]]
}

test_resource_decisions_are_empty_without_a_list_of_resources if {
	clearance.resource_decisions == {"outcomes": [], "resources": []} with input as {"action": "item.view"}
}

test_subjects_linked_to_different_staff_members_are_decided_once if {
	rows := [
		[_user("u1", "practice_admin", {"xpm_staff_id": "x1"}), {}],
		[_user("u2", "practice_admin", {"xpm_staff_id": "x2"}), {}],
		[_user("u3", "practice_admin", {"xpm_staff_id": null}), {}],
		[_user("u4", "practice_admin", {"xpm_staff_id": ""}), {}],
	]
	list := _subjects_list("time.push", _client("c1", {}), rows)
	decisions := clearance.subject_decisions with input as list
	count(decisions.outcomes) == 2
	every i, row in rows {
		single := clearance.decide(_request("time.push", row[0], _practice, _client("c1", {})))
		decisions.outcomes[decisions.subjects[i]] == _entry(single)
	}
	decisions.subjects[0] == decisions.subjects[1]
	decisions.subjects[2] == decisions.subjects[3]
	decisions.subjects[0] != decisions.subjects[2]
}

test_a_list_of_subjects_without_a_resource_object_is_invalid_input_for_each if {
	rows := [[_user("u1", "standard", {}), {}]]
	answers := _per_subject(clearance.subject_decisions) with input as _subjects_list("client.view", 5, rows)
	answers == [[false, {"code": "invalid_input", "message": "resource must be an object"}]]
}

test_a_subject_row_made_to_look_like_a_key_is_invalid_input_not_decided if {
	shaped := [true, "a1", "practice_admin", "active", null, {}, null, {}]
	rows := [shaped, {"shape": shaped}, [{"shape": shaped}, {}]]
	answers := _per_subject(clearance.subject_decisions) with input as _subjects_list("client.view", _client("c1", {}), rows)
	every answer in answers {
		answer[0] == false
	}
	answers[0] == [false, {"code": "invalid_input", "message": "subject must be an array of a subject and the facts of the resource for it"}]
}

test_a_subject_with_other_fields_than_a_listed_one_is_decided_as_it_is if {
	odd := object.union(_user("u9", "practice_admin", {}), {"nickname": "nine"})
	rows := [[odd, {}], [_user("u1", "practice_admin", {}), {}]]
	decisions := clearance.subject_decisions with input as _subjects_list("client.view", _client("c1", {}), rows)
	every i, row in rows {
		single := clearance.decide(_request("client.view", row[0], _practice, _client("c1", {})))
		decisions.outcomes[decisions.subjects[i]] == _entry(single)
	}
}
