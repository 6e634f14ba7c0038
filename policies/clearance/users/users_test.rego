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

# ---- SPEC §2.4a: limits on delegation -------------------------------------------------------

# A client admin restricted to selected clients, who has client c1 but not c2.
_restricted_admin := {
	"id": "u1", "account_id": "a1", "role": "client_admin",
	"client_access_mode": "selected", "permissions": {"publishing": "expense_claims_only"},
}

_colleague(facts) := object.union(
	{
		"type": "user", "id": "u2", "account_id": "a1", "role": "standard", "status": "active",
		"client_access_mode": "selected", "permissions": {}, "xpm_staff_id": null,
	},
	facts,
)

_self_target(subject) := object.union(_colleague({}), {"id": subject.id, "role": subject.role})

_codes(denials) := {code |
	some reason in denials
	code := _code(reason)
}

_code(reason) := reason if is_string(reason)

_code(reason) := reason.code if is_object(reason)

_exceeding(denials) := {reason.message |
	some reason in denials
	is_object(reason)
	reason.code == "grant_exceeds_own_access"
}

# Proposed values.

test_every_proposal_action_may_carry_the_proposed_values if {
	attributes := {
		"role": "client_admin", "client_access_mode": "selected",
		"permissions": {"manage_business": false}, "status": "active", "xpm_staff_id": "s9",
	}
	every action in {"user.create", "user.update", "user.client_access.edit"} {
		request := _request(action, _practice_subject("practice_admin"), _colleague({}), attributes)
		users.denials(request) == set()
		users.grants(request) == {"top_admin"}
	}
}

test_a_value_equal_to_the_one_the_target_has_is_not_a_change if {
	target := _self_target(_restricted_admin)
	attributes := {
		"role": "client_admin", "status": "active", "client_access_mode": "selected",
		"permissions": {"manage_business": false, "publishing": null}, "xpm_staff_id": null,
	}
	request := _request("user.update", _restricted_admin, target, attributes)
	users.denials(request) == set()
}

test_a_proposal_is_judged_as_a_whole_and_every_refusal_is_listed if {
	attributes := {"role": "practice_admin", "client_access_mode": "all", "xpm_staff_id": "s1"}
	request := _request("user.update", _restricted_admin, _self_target(_restricted_admin), attributes)
	users.denials(request) == {"admin_target_protected", "self_action_not_allowed"}
	user_admin := {"id": "u1", "account_id": "a1", "role": "user_admin"}
	attributes_in_business := {"role": "business_admin", "xpm_staff_id": "s1"}
	business := object.union(
		_request("user.update", user_admin, _colleague({"role": "standard"}), attributes_in_business),
		{"account": {"id": "a1", "kind": "business"}},
	)
	users.denials(business) == {"admin_target_protected", "account_kind_not_supported"}
	colleague := _request("user.update", _restricted_admin, _colleague({}), {
		"role": "expense_approver", "client_access_mode": "all",
		"permissions": {"create_expense_claims": true},
	})
	_codes(users.denials(colleague)) == {"role_phased_out", "grant_exceeds_own_access"}
	count(_exceeding(users.denials(colleague))) == 2
}

# Nothing on oneself that widens one's own access.

test_nobody_may_change_their_own_status_mode_or_permissions_whatever_their_role if {
	proposals := [{"status": "suspended"}, {"client_access_mode": "all"}, {"permissions": {"add_clients": true}}]
	every role in {"practice_admin", "client_admin", "standard"} {
		subject := object.union(_practice_subject(role), {"client_access_mode": "selected"})
		every attributes in proposals {
			request := _request("user.update", subject, _self_target(subject), attributes)
			"self_action_not_allowed" in users.denials(request)
		}
	}
}

test_a_restricted_client_admin_cannot_lift_its_own_restriction if {
	request := _request("user.update", _restricted_admin, _self_target(_restricted_admin), {"client_access_mode": "all"})
	users.denials(request) == {"self_action_not_allowed"}
}

test_nobody_may_allocate_a_client_to_themselves if {
	target := object.union(_self_target(_restricted_admin), {"attribute_client": _client_to_allocate(true, false)})
	request := _request("user.client_access.edit", _restricted_admin, target, {"client_id": "c1"})
	users.denials(request) == {"self_action_not_allowed"}
}

test_only_the_top_admin_may_set_their_own_practice_manager_link if {
	top := _practice_subject("practice_admin")
	users.denials(_request("user.xpm_link.edit", top, _self_target(top), {"xpm_staff_id": "s1"})) == set()
	users.denials(_request("user.update", top, _self_target(top), {"xpm_staff_id": "s1"})) == set()
	users.denials(_request("user.xpm_link.edit", _restricted_admin, _self_target(_restricted_admin), {})) == {
		"self_action_not_allowed",
	}
	standard := _practice_subject("standard")
	users.denials(_request("user.xpm_link.edit", standard, _self_target(standard), {"xpm_staff_id": "s2"})) == {
		"role_not_permitted", "self_action_not_allowed",
	}
}

test_a_sub_admin_may_update_its_own_profile_without_a_change_of_access if {
	request := _request("user.update", _restricted_admin, _self_target(_restricted_admin), {"status": "active"})
	users.denials(request) == set()
	users.grants(request) == {"sub_admin"}
}

# No granting what one does not have: clients.

test_a_restricted_client_admin_cannot_allocate_a_client_it_has_no_access_to if {
	request := _allocation_by(_restricted_admin, _client_to_allocate(false, false))
	_codes(users.denials(request)) == {"grant_exceeds_own_access"}
	_exceeding(users.denials(request)) == {"may not allocate client c1: it is not allocated to the admin"}
}

test_a_restricted_client_admin_may_allocate_a_client_it_has if {
	users.denials(_allocation_by(_restricted_admin, _client_to_allocate(true, false))) == set()
}

test_a_client_admin_without_xero_access_to_a_client_cannot_allocate_it if {
	admin := object.union(_restricted_admin, {"client_access_mode": "ledger_selected"})
	_exceeding(users.denials(_allocation_by(admin, _client_to_allocate(false, false)))) == {concat("", [
		"may not allocate client c1: it is not allocated to the admin",
		" and the admin has no Xero access to it",
	])}
	_exceeding(users.denials(_allocation_by(admin, _client_to_allocate(true, true)))) == set()
}

test_the_mode_coverage_table_is_the_one_of_the_spec if {
	covered := {
		"all": {"all", "selected", "ledger_all", "ledger_selected"},
		"ledger_all": {"ledger_all", "ledger_selected"},
		"selected": {"selected", "ledger_selected"},
		"ledger_selected": {"ledger_selected"},
	}
	every own, modes in covered {
		admin := object.union(_restricted_admin, {"client_access_mode": own})
		every mode in {"all", "selected", "ledger_all", "ledger_selected"} {
			target := _colleague({"client_access_mode": null})
			request := _request("user.update", admin, target, {"client_access_mode": mode})
			_allowed_iff(users.denials(request), _member(mode, modes))
		}
	}
}

_member(value, values) if {
	value in values
} else := false

_allowed_iff(denials, true) if denials == set()

_allowed_iff(denials, false) if _codes(denials) == {"grant_exceeds_own_access"}

test_a_mode_broader_than_its_own_says_which_mode_and_what_the_admin_has if {
	request := _request("user.update", _restricted_admin, _colleague({}), {"client_access_mode": "all"})
	_exceeding(users.denials(request)) == {
		"may not give client access mode all: it is broader than the admin's own (selected)",
	}
}

test_a_restricted_client_admin_creating_a_client_admin_must_name_a_mode_within_its_own if {
	_codes(_created_by_restricted_admin({"role": "client_admin"})) == {"grant_exceeds_own_access"}
	_codes(_created_by_restricted_admin({"role": "client_admin", "client_access_mode": null})) == {
		"grant_exceeds_own_access",
	}
	_created_by_restricted_admin({"role": "client_admin", "client_access_mode": "selected"}) == set()
	_created_by_restricted_admin({"role": "standard"}) == set()
	_codes(_created_by_restricted_admin({"client_access_mode": "ledger_all"})) == {"grant_exceeds_own_access"}
	_created_by_restricted_admin({}) == set()
}

_created_by_restricted_admin(attributes) := users.denials(_request(
	"user.create", _restricted_admin, {"type": "user"},
	attributes,
))

test_promoting_a_colleague_judges_the_mode_the_target_will_have if {
	_codes(_promoted(_colleague({"client_access_mode": null}))) == {"grant_exceeds_own_access"}
	_codes(_promoted(_colleague({"client_access_mode": "ledger_all"}))) == {"grant_exceeds_own_access"}
	_promoted(_colleague({"client_access_mode": "selected"})) == set()
}

_promoted(target) := users.denials(_request("user.update", _restricted_admin, target, {"role": "client_admin"}))

test_the_mode_is_judged_on_an_update_only_when_role_or_mode_changes if {
	target := _colleague({"client_access_mode": "all"})
	users.denials(_request("user.update", _restricted_admin, target, {"status": "suspended"})) == set()
	users.denials(_request("user.update", _restricted_admin, target, {"client_access_mode": "all"})) == set()
	users.denials(_request("user.update", _restricted_admin, target, {"role": "standard"})) == set()
	_codes(users.denials(_request("user.update", _restricted_admin, target, {"role": "client_admin"}))) == {
		"grant_exceeds_own_access",
	}
}

# No granting what one does not have: the practice's own books.

test_a_client_admin_cannot_grant_book_permissions_it_does_not_hold if {
	attributes := {"permissions": {"manage_business": true, "create_expense_claims": true, "publishing": "all"}}
	denials := users.denials(_request("user.update", _restricted_admin, _colleague({}), attributes))
	_exceeding(denials) == {
		"may not grant manage_business: the admin does not hold it",
		"may not grant create_expense_claims: the admin does not hold it",
		"may not grant publishing all: it is above the admin's own (expense_claims_only)",
	}
}

test_a_client_admin_may_grant_book_permissions_up_to_its_own if {
	own := {"create_expense_claims": true, "publishing": "expense_claims_only"}
	admin := object.union(_restricted_admin, {"permissions": own})
	attributes := {"permissions": object.union(own, {"add_clients": true})}
	users.denials(_request("user.update", admin, _colleague({}), attributes)) == set()
	users.denials(_request("user.update", admin, _colleague({}), {"permissions": {"manage_business": false}})) == set()
}

test_a_client_admin_with_manage_business_holds_all_three if {
	admin := object.union(_restricted_admin, {"permissions": {"manage_business": true, "publishing": "none"}})
	attributes := {"permissions": {"manage_business": true, "create_expense_claims": true, "publishing": "all"}}
	users.denials(_request("user.create", admin, {"type": "user"}, attributes)) == set()
}

test_a_permission_the_target_already_has_is_not_a_grant if {
	target := _colleague({"permissions": {"manage_business": true, "publishing": "all"}})
	attributes := {"permissions": {"manage_business": true, "publishing": "all"}}
	users.denials(_request("user.update", _restricted_admin, target, attributes)) == set()
}

test_the_top_admin_is_never_limited if {
	top := object.union(_practice_subject("practice_admin"), {"permissions": {}})
	attributes := {"role": "client_admin", "client_access_mode": "all", "permissions": {"manage_business": true}}
	users.denials(_request("user.create", top, {"type": "user"}, attributes)) == set()
	target := _colleague({"attribute_client": _client_to_allocate(false, false)})
	users.denials(_request("user.client_access.edit", top, target, {"client_id": "c1"})) == set()
}

test_business_user_admins_are_not_limited_by_the_grant_rule if {
	request := object.union(
		_request(
			"user.update", {"id": "u1", "account_id": "a1", "role": "user_admin", "permissions": {}},
			_colleague({"client_access_mode": null}), {"permissions": {"manage_business": true, "publishing": "all"}},
		),
		{"account": {"id": "a1", "kind": "business"}},
	)
	users.denials(request) == set()
}

# The practice-manager link.

test_admins_may_set_the_link_of_users_of_their_account if {
	every role in {"practice_admin", "client_admin"} {
		request := _request("user.xpm_link.edit", _practice_subject(role), _colleague({}), {"xpm_staff_id": "s1"})
		users.denials(request) == set()
	}
	standard := _request("user.xpm_link.edit", _practice_subject("standard"), _colleague({}), {"xpm_staff_id": "s1"})
	users.denials(standard) == {"role_not_permitted"}
}

test_a_sub_admin_may_not_set_the_link_of_a_top_admin if {
	target := _colleague({"role": "practice_admin"})
	request := _request("user.xpm_link.edit", _practice_subject("client_admin"), target, {"xpm_staff_id": null})
	users.denials(request) == {"admin_target_protected"}
}

test_a_create_or_update_proposing_a_link_is_judged_as_a_link_edit_too if {
	create := _request("user.create", _practice_subject("client_admin"), {"type": "user"}, {"xpm_staff_id": "s1"})
	users.denials(create) == set()
	business_create := object.union(
		_request("user.create", {"id": "u1", "account_id": "a1", "role": "business_admin"}, {"type": "user"}, {
			"role": "invented", "xpm_staff_id": "s1",
		}),
		{"account": {"id": "a1", "kind": "business"}},
	)
	users.denials(business_create) == {"invalid_role", "account_kind_not_supported"}
	standard := _practice_subject("standard")
	update := _request("user.update", standard, _self_target(standard), {"xpm_staff_id": "s1", "status": "suspended"})
	users.denials(update) == {"role_not_permitted", "self_action_not_allowed"}
}

test_clearing_a_link_is_a_change_and_keeping_it_is_not if {
	target := _self_target(_restricted_admin)
	linked := object.union(target, {"xpm_staff_id": "s1"})
	users.denials(_request("user.update", _restricted_admin, linked, {"xpm_staff_id": null})) == {
		"self_action_not_allowed",
	}
	users.denials(_request("user.update", _restricted_admin, linked, {"xpm_staff_id": "s1"})) == set()
	users.denials(_request("user.create", _restricted_admin, {"type": "user"}, {"xpm_staff_id": null})) == set()
}

test_a_proposed_role_counts_for_client_access_edits_too if {
	attributes := {"role": "practice_admin"}
	request := _request("user.client_access.edit", _practice_subject("client_admin"), _colleague({}), attributes)
	users.denials(request) == {"admin_target_protected"}
}

_client_to_allocate(subject_allocated, subject_ledger_access) := {
	"id": "c1", "found": true, "account_id": "a1", "ledger": "xero", "ledger_access": true,
	"subject_allocated": subject_allocated, "subject_ledger_access": subject_ledger_access,
}

_allocation_by(subject, client) := _request(
	"user.client_access.edit", subject,
	_colleague({"attribute_client": client}),
	{"client_id": "c1"},
)
