package clearance.log_test

import data.clearance.log

_entry(request) := {"endpoint": "decide", "input": request, "result": {"allow": true, "reasons": []}}

test_the_account_name_is_removed if {
	masks := log.mask with input as _entry({"account": {"id": "p1", "kind": "practice", "name": "Jo Bloggs Bookkeeping"}})
	masks == {"/input/account/name"}
}

test_an_entry_without_an_account_masks_nothing if {
	masks := log.mask with input as _entry({"account": null, "subject": {"id": "ghost", "found": false}})
	count(masks) == 0
}

test_attributes_the_policy_reads_are_kept if {
	entry := _entry({"resource": {"type": "user", "attributes": {"role": "standard", "client_id": "c1"}}})
	masks := log.mask with input as entry
	count(masks) == 0
}

test_other_attributes_sent_by_the_caller_are_removed if {
	entry := _entry({"resource": {"type": "user", "attributes": {"role": "standard", "email": "jo@example.com"}}})
	masks := log.mask with input as entry
	masks == {"/input/resource/attributes/email"}
}

test_pointer_segments_are_escaped_as_rfc_6901_says if {
	log.pointer(["input", "a/b", "c~d"]) == "/input/a~1b/c~0d"
}

test_every_proposed_value_of_a_user_resource_is_kept if {
	attributes := {
		"role": "client_admin", "client_access_mode": "selected", "permissions": {"publishing": "all"},
		"status": "active", "xpm_staff_id": "xpm-1", "client_id": "c1",
	}
	masks := log.mask with input as _entry({"resource": {"type": "user", "id": "u2", "attributes": attributes}})
	count(masks) == 0
}

test_attributes_of_other_resource_types_are_removed_since_no_rule_reads_them if {
	request := {"resource": {"type": "client", "id": "c1", "attributes": {"role": "standard", "note": "x"}}}
	masks := log.mask with input as _entry(request)
	masks == {"/input/resource/attributes/role", "/input/resource/attributes/note"}
}
