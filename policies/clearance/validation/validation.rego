# METADATA
# title: Input validation
# description: |
#   Checks the shape of one decision request before any rule looks at it, so that
#   malformed input is refused with invalid_input instead of being decided on
#   missing facts. problems(req) is the set of messages, empty when the input is fine.
package clearance.validation

import data.clearance.catalogue
import data.clearance.lib

# problems(req) lists what is wrong with a request, one message per problem.
problems(req) := {"input must be an object"} if {
	not is_object(req)
} else := {concat("", [concat(".", check.path), " must ", check.must]) |
	some check in _checks(req)
	not _passes(object.get(req, check.path, null), check)
} | _consistency_problems(req)

_passes(value, check) if type_name(value) in check.types

_passes(value, check) if value in check.values

# _checks(req) are the checks that apply to this request: facts are checked only
# when the context loader says the record was found.
_checks(req) := {check |
	some group, checks in _schema
	_applies(group, req)
	some check in checks
}

_applies("request", _)

_applies("subject", req) if is_object(req.subject)

_applies("subject_facts", req) if req.subject.found == true

_applies("resource", req) if is_object(req.resource)

# user.create names no existing user, so neither id nor found is demanded.
_applies("resource_lookup", req) if {
	is_object(req.resource)
	req.action != "user.create"
}

_applies("resource_facts", req) if _resource_found(req)

_applies("client_resource", req) if _found_of_type(req, "client")

_applies("account_resource", req) if _found_of_type(req, "account")

_applies("user_resource", req) if _found_of_type(req, "user")

_applies("attribute_client", req) if _names_attribute_client(req)

_applies("attribute_client_facts", req) if {
	_names_attribute_client(req)
	req.resource.attribute_client.found == true
}

_applies("item_resource", req) if _found_of_type(req, "item")

_applies("item_client", req) if {
	_found_of_type(req, "item")
	is_string(req.resource.client_id)
}

# The loader looks up attributes.client_id for user resources (user.client_access.edit).
_names_attribute_client(req) if {
	_found_of_type(req, "user")
	is_string(req.resource.attributes.client_id)
}

_resource_found(req) if {
	req.resource.found == true
	req.action != "user.create"
}

_found_of_type(req, resource_type) if {
	_resource_found(req)
	req.resource.type == resource_type
}

_check(path, expectation) := object.union(expectation, {"path": path})

_string := {"types": {"string"}, "must": "be a string"}

_boolean := {"types": {"boolean"}, "must": "be a boolean"}

_object := {"types": {"object"}, "must": "be an object"}

_optional_string := {"types": {"string", "null"}, "must": "be a string or null"}

_optional_boolean := {"types": {"boolean", "null"}, "must": "be a boolean or null"}

_optional_object := {"types": {"object", "null"}, "must": "be an object or null"}

_known_roles := lib.roles.practice | lib.roles.business

_role := {"values": _known_roles, "must": "be a known role"}

_ledger := {"values": {"xero", "myob", "quickbooks", "none"}, "must": "be xero, myob, quickbooks or none"}

_kind := {"values": {"practice", "business"}, "must": "be practice or business"}

_mode := {
	"values": (lib.client_access_modes | {null}),
	"must": "be all, selected, ledger_all, ledger_selected or null",
}

_schema := {
	"request": [
		_check(["action"], _string),
		_check(["subject"], _object),
		_check(["resource"], _object),
	],
	"subject": [
		_check(["subject", "id"], _string),
		_check(["subject", "found"], _boolean),
	],
	"subject_facts": [
		_check(["subject", "account_id"], _string),
		_check(["subject", "role"], _role),
		{"path": ["subject", "status"], "values": {"active", "suspended"}, "must": "be active or suspended"},
		_check(["subject", "client_access_mode"], _mode),
		_check(["subject", "permissions"], _optional_object),
		_check(["subject", "permissions", "add_clients"], _optional_boolean),
		_check(["subject", "permissions", "practice_insights"], _optional_boolean),
		_check(["subject", "permissions", "manage_business"], _optional_boolean),
		_check(["subject", "permissions", "create_expense_claims"], _optional_boolean),
		{
			"path": ["subject", "permissions", "publishing"],
			"values": {"all", "expense_claims_only", "none", null},
			"must": "be all, expense_claims_only, none or null",
		},
		_check(["subject", "xpm_staff_id"], _optional_string),
		_check(["account"], _object),
		_check(["account", "id"], _string),
		_check(["account", "kind"], _kind),
	],
	"resource": [
		{"path": ["resource", "type"], "values": catalogue.resource_types, "must": "be client, account, user or item"},
		_check(["resource", "attributes"], _optional_object),
		_check(["resource", "attributes", "role"], _optional_string),
		_check(["resource", "attributes", "client_id"], _optional_string),
	],
	"resource_lookup": [
		_check(["resource", "id"], _string),
		_check(["resource", "found"], _boolean),
	],
	"resource_facts": [_check(["resource", "account_id"], _string)],
	"client_resource": _client_facts(["resource"]),
	"account_resource": [_check(["resource", "kind"], _kind)],
	"user_resource": [
		_check(["resource", "role"], _role),
		{"path": ["resource", "status"], "values": {"active", "suspended"}, "must": "be active or suspended"},
		_check(["resource", "client_access_mode"], _mode),
	],
	"attribute_client": [
		_check(["resource", "attribute_client"], _object),
		_check(["resource", "attribute_client", "found"], _boolean),
	],
	"attribute_client_facts": [
		_check(["resource", "attribute_client", "account_id"], _string),
		_check(["resource", "attribute_client", "ledger"], _ledger),
		_check(["resource", "attribute_client", "ledger_access"], _boolean),
	],
	"item_resource": [
		_check(["resource", "client_id"], _optional_string),
		_check(["resource", "owner_user_id"], _string),
		{
			"path": ["resource", "kind"],
			"values": {"expense_claim", "receipt", "invoice"},
			"must": "be expense_claim, receipt or invoice",
		},
	],
	"item_client": array.concat(
		[_check(["resource", "client"], _object)],
		_client_facts(["resource", "client"]),
	),
}

# _client_facts(prefix) checks the facts of a client found at prefix.
_client_facts(prefix) := [
	_check(array.concat(prefix, ["account_id"]), _string),
	_check(array.concat(prefix, ["ledger"]), _ledger),
	_check(array.concat(prefix, ["allocated"]), _boolean),
	_check(array.concat(prefix, ["ledger_access"]), _boolean),
]

# Checks across fields: the subject's account must be the one described, and a
# role must belong to its account's kind (SPEC §1).
_consistency_problems(req) := {message |
	some message in _consistency_messages
	_inconsistent(message, req)
}

_consistency_messages := {
	"account.id must equal subject.account_id",
	"subject.role must belong to account.kind",
}

_inconsistent("account.id must equal subject.account_id", req) if {
	req.subject.found == true
	is_string(req.account.id)
	req.account.id != req.subject.account_id
}

_inconsistent("subject.role must belong to account.kind", req) if {
	req.subject.found == true
	kind_roles := lib.roles[req.account.kind]
	req.subject.role in _known_roles
	not req.subject.role in kind_roles
}
