# METADATA
# title: Input validation
# description: |
#   Checks the shape of one decision request before any rule looks at it, so that
#   malformed input is refused with invalid_input instead of being decided on
#   missing facts. problems(req) is the set of messages, empty when the input is fine.
#   Each record's fields are a table of field → kind of value; a problem names the field
#   and what it must be ("subject.role must be a known role").
#   The common case, no problem, is checked in one pass from the same tables (fine, at
#   the end); only a request that fails it has its problems collected.
package clearance.validation

import data.clearance.catalogue
import data.clearance.clients
import data.clearance.lib

# problems(req) lists what is wrong with a request, one message per problem.
problems(req) := set() if {
	fine(req)
} else := all_problems(req)

# all_problems(req) is problems(req) without the one-pass check of the common case (fine).
all_problems(req) := {"input must be an object"} if {
	not is_object(req)
} else := _request_problems(req) | _resource_problems(req, object.get(req, "resource", null))

# request_problems(req) are the problems of everything but the resource: the action,
# the subject, its account, and how they fit together. A list of resources shares them.
request_problems(req) := set() if {
	_request_fine(req)
} else := _request_problems(req)

_request_problems(req) := union({
	_value_problems("action", object.get(req, "action", null), "string"),
	_value_problems("subject", object.get(req, "subject", null), "object"),
	_subject_problems(object.get(req, "subject", null)),
	_subject_fact_problems(req),
})

# resource_problems(req, resource) are the problems of one resource of req; facts are
# checked only when the context loader says the record was found.
resource_problems(req, resource) := set() if {
	_resource_fine(req, resource)
} else := _resource_problems(req, resource)

_resource_problems(req, resource) := {"resource must be an object"} if {
	not is_object(resource)
} else := union({
	_field_problems("resource", resource, _resource_fields),
	_proposal_problems(object.get(req, "action", null), resource),
	_lookup_problems(req, resource),
	_fact_problems(req, resource),
})

# client_problems(req, row) are the problems of a client given as a row of a list
# (clients.row_resource): the problems of the client resource it stands for.
client_problems(req, row) := resource_problems(req, resource) if {
	resource := clients.row_resource(row)
} else := {"client must be an array of id, account_id, ledger, allocated and ledger_access"}

# ---- the fields of each record, and the kind of value each holds ---------------------------

_subject_fields := {"id": "string", "found": "boolean"}

# The facts of a user, the subject's or a target's (SPEC §1).
_user_facts := {
	"role": "role",
	"status": "status",
	"client_access_mode": "mode or null",
	"permissions": "object or null",
	"xpm_staff_id": "string or null",
}

_subject_facts := object.union(_user_facts, {"account_id": "string"})

_permissions := {
	"add_clients": "boolean or null",
	"practice_insights": "boolean or null",
	"manage_business": "boolean or null",
	"create_expense_claims": "boolean or null",
	"publishing": "publishing or null",
}

_account_fields := {"id": "string", "kind": "account kind"}

_resource_fields := {"type": "resource type", "attributes": "object or null"}

# The proposed values a user resource may carry (SPEC §2.4a).
_proposal_fields := {
	"role": "string or null",
	"client_id": "string or null",
	"client_access_mode": "mode or null",
	"permissions": "object or null",
	"status": "status or null",
	"xpm_staff_id": "string or null",
}

_lookup_fields := {"id": "string", "found": "boolean"}

_found_fields := {"account_id": "string"}

# A client's facts, relative to the subject (SPEC §2.2).
_client_facts := {"account_id": "string", "ledger": "ledger", "allocated": "boolean", "ledger_access": "boolean"}

_account_facts := {"kind": "account kind"}

_item_facts := {"client_id": "string or null", "owner_user_id": "string", "kind": "item kind"}

_attribute_client_fields := {"found": "boolean"}

# The client being allocated (user.client_access.edit): its facts, with the target's ledger
# access and the subject's own access to it.
_attribute_client_facts := {
	"account_id": "string",
	"ledger": "ledger",
	"ledger_access": "boolean",
	"subject_allocated": "boolean",
	"subject_ledger_access": "boolean",
}

# ---- what each kind of value must be -----------------------------------------------------

# A kind of value is either JSON types (types) or a list of names (values), and what the
# message says it must be (must_be).
_kinds := {
	"string": {"types": {"string"}, "must_be": "a string"},
	"string or null": {"types": {"string", "null"}, "must_be": "a string or null"},
	"boolean": {"types": {"boolean"}, "must_be": "a boolean"},
	"boolean or null": {"types": {"boolean", "null"}, "must_be": "a boolean or null"},
	"object": {"types": {"object"}, "must_be": "an object"},
	"object or null": {"types": {"object", "null"}, "must_be": "an object or null"},
	"role": {"values": _role_names, "must_be": "a known role"},
	"status": {"values": {"active", "suspended"}, "must_be": "active or suspended"},
	"status or null": {"values": {"active", "suspended", null}, "must_be": "active, suspended or null"},
	"mode or null": {
		"values": (lib.client_access_modes | {null}),
		"must_be": "all, selected, ledger_all, ledger_selected or null",
	},
	"publishing or null": {
		"values": {"all", "expense_claims_only", "none", null},
		"must_be": "all, expense_claims_only, none or null",
	},
	"account kind": {"values": {"practice", "business"}, "must_be": "practice or business"},
	"resource type": {"values": catalogue.resource_type_names, "must_be": "client, account, user or item"},
	"ledger": {"values": {"xero", "myob", "quickbooks", "none"}, "must_be": "xero, myob, quickbooks or none"},
	"item kind": {"values": {"expense_claim", "receipt", "invoice"}, "must_be": "expense_claim, receipt or invoice"},
}

_role_names := {role | some kind_roles in lib.roles; some role in kind_roles}

_valid(kind, value) if type_name(value) in _kinds[kind].types

_valid(kind, value) if value in _kinds[kind].values

# _field_problems(path, record, fields) has one problem per field of the record at path whose
# value (null when missing, or when the record is not an object) is not of its kind.
_field_problems(path, record, fields) := {_problem(concat(".", [path, name]), kind) |
	some name, kind in fields
	not _valid(kind, _get(record, name))
}

_value_problems(path, value, kind) := {_problem(path, kind) | not _valid(kind, value)}

_problem(path, kind) := concat("", [path, " must be ", _kinds[kind].must_be])

_get(record, name) := object.get(record, name, null) if {
	is_object(record)
} else := null

# ---- the subject and its account -----------------------------------------------------------

_subject_problems(subject) := _field_problems("subject", subject, _subject_fields) if {
	is_object(subject)
} else := set()

# The facts of a subject and its account are checked when the subject was found.
_subject_fact_problems(req) := union({
	_field_problems("subject", req.subject, _subject_facts),
	_permission_problems("subject.permissions", object.get(req.subject, "permissions", null)),
	_value_problems("account", object.get(req, "account", null), "object"),
	_field_problems("account", object.get(req, "account", null), _account_fields),
	_consistency_problems(req),
}) if {
	req.subject.found == true
} else := set()

# The values of a permissions object; none when it is not an object (checked on its own).
_permission_problems(path, permissions) := _field_problems(path, permissions, _permissions) if {
	is_object(permissions)
} else := set()

# Checks across fields: the subject's account must be the one described, and a
# role must belong to its account's kind (SPEC §1).
_consistency_problems(req) := {"account.id must equal subject.account_id" |
	is_string(req.account.id)
	req.account.id != req.subject.account_id
} | {"subject.role must belong to account.kind" |
	_valid("account kind", req.account.kind)
	lib.known_role(req.subject.role)
	not lib.role_of_kind(req.subject.role, req.account.kind)
}

# ---- proposed values (SPEC §2.4a) ------------------------------------------------------------

# Proposed values are judged on user resources only; other resource types keep free-form
# attributes.
_proposal_problems(action, resource) := union({
	_field_problems("resource.attributes", resource.attributes, _proposal_fields),
	_proposed_permission_problems(object.get(resource.attributes, "permissions", null)),
	{_not_taken_problem(action, name) | some name in _not_taken(action, resource.attributes)},
}) if {
	resource.type == "user"
	is_object(resource.attributes)
} else := set()

_proposed_permission_problems(permissions) := _permission_problems(
	"resource.attributes.permissions",
	permissions,
) | {concat("", ["resource.attributes.permissions.", name, " is not a permission"]) |
	is_object(permissions)
	some name, _ in permissions
	not _permissions[name]
}

# Each edit takes only the proposed values it judges: user.profile.edit none (name and profile
# fields are not judged, SPEC §2.4a), user.xpm_link.edit the link only, a create or update all
# but the client being allocated, which is user.client_access.edit's. A value an edit does not
# take is refused rather than ignored, so a caller cannot have it applied unjudged. The other
# user actions change no field, and their attributes are not read.
_takes := {
	"user.create": _proposed_fields,
	"user.update": _proposed_fields,
	"user.client_access.edit": lib.resource_attributes,
	"user.xpm_link.edit": {"xpm_staff_id"},
	"user.profile.edit": set(),
}

_proposed_fields := {"role", "client_access_mode", "permissions", "status", "xpm_staff_id"}

# The action to ask for a proposed value, for the message refusing it elsewhere.
_action_taking := {
	"role": "user.update",
	"client_access_mode": "user.update",
	"permissions": "user.update",
	"status": "user.update",
	"xpm_staff_id": "user.xpm_link.edit",
	"client_id": "user.client_access.edit",
}

# _not_taken(action, attributes) are the proposed values of attributes the action does not take.
# A null role, status, permissions or client_id proposes nothing; a null mode is the role
# default and a null link clears it, so those are proposals.
_not_taken(action, attributes) := {name |
	some name, value in attributes
	name in lib.resource_attributes
	_proposes(name, value)
	taken := _takes[action]
	not name in taken
}

_proposes(_, value) if value != null

_proposes(name, null) if name in {"client_access_mode", "xpm_staff_id"}

_not_taken_problem(action, name) := concat("", [
	"resource.attributes.", name, " cannot be proposed with ", action,
	" (ask ", _action_taking[name], ")",
])

# ---- looking the resource up, and its facts --------------------------------------------------

# The loader looks a resource up by id, except for user.create: it names no existing user, so
# neither id nor found is demanded, and an id is refused (the decision would otherwise be read
# as one about the user it names).
_looked_up(req) if req.action != "user.create"

_lookup_problems(req, resource) := _field_problems("resource", resource, _lookup_fields) if {
	_looked_up(req)
} else := {"resource.id must not be given for user.create: it names no existing user" |
	resource.type == "user"
	_ := resource.id
}

_fact_problems(req, resource) := union({
	_field_problems("resource", resource, _found_fields),
	_type_fact_problems(object.get(resource, "type", null), resource),
}) if {
	_looked_up(req)
	resource.found == true
} else := set()

_type_fact_problems("client", resource) := _field_problems("resource", resource, _client_facts)

_type_fact_problems("account", resource) := _field_problems("resource", resource, _account_facts)

_type_fact_problems("user", resource) := union({
	_field_problems("resource", resource, _user_facts),
	_permission_problems("resource.permissions", object.get(resource, "permissions", null)),
	_attribute_client_problems(resource),
})

_type_fact_problems("item", resource) := union({
	_field_problems("resource", resource, _item_facts),
	_item_client_problems(resource),
})

_type_fact_problems(type, _) := set() if not catalogue.is_resource_type(type)

# The loader looks attributes.client_id up for user resources (user.client_access.edit): the
# client's facts, with the target's ledger access and the subject's own access to it.
_attribute_client_problems(resource) := union({
	_value_problems("resource.attribute_client", client, "object"),
	_field_problems("resource.attribute_client", client, _attribute_client_fields),
	_found_attribute_client_problems(client),
}) if {
	is_string(resource.attributes.client_id)
	client := object.get(resource, "attribute_client", null)
} else := set()

_found_attribute_client_problems(client) := _field_problems(
	"resource.attribute_client",
	client,
	_attribute_client_facts,
) if {
	client.found == true
} else := set()

# An item of a client carries the client's facts.
_item_client_problems(resource) := union({
	_value_problems("resource.client", client, "object"),
	_field_problems("resource.client", client, _client_facts),
}) if {
	is_string(object.get(resource, "client_id", null))
	client := object.get(resource, "client", null)
} else := set()

# ---- the common case, in one pass ----------------------------------------------------------

# fine(req) holds when the request has no problem: the common case, checked in one pass with no
# set built, from the same field tables as the problems above (precheck_agrees says the two
# agree; the differential test asks it of every input of its corpus).
fine(req) if {
	_request_fine(req)
	_resource_fine(req, req.resource)
}

_request_fine(req) if {
	is_string(req.action)
	_fields_fine(req.subject, _subject_fields)
	_subject_facts_fine(req)
}

_subject_facts_fine(req) if req.subject.found == false

_subject_facts_fine(req) if {
	req.subject.found == true
	_fields_fine(req.subject, _subject_facts)
	_permissions_fine(object.get(req.subject, "permissions", null))
	_fields_fine(req.account, _account_fields)
	count(_consistency_problems(req)) == 0
}

# A permissions object that is not an object is the subject's or the target's own problem.
_permissions_fine(permissions) if not is_object(permissions)

_permissions_fine(permissions) if _fields_fine(permissions, _permissions)

_resource_fine(req, resource) if {
	_fields_fine(resource, _resource_fields)
	count(_proposal_problems(object.get(req, "action", null), resource)) == 0
	_lookup_fine(req, resource)
	_facts_fine(req, resource)
}

_lookup_fine(req, resource) if {
	_looked_up(req)
	_fields_fine(resource, _lookup_fields)
}

_lookup_fine(req, resource) if {
	not _looked_up(req)
	count(_lookup_problems(req, resource)) == 0
}

_facts_fine(req, _) if not _looked_up(req)

_facts_fine(req, resource) if {
	_looked_up(req)
	resource.found == false
}

_facts_fine(req, resource) if {
	_looked_up(req)
	resource.found == true
	_fields_fine(resource, _found_fields)
	_type_facts_fine(resource.type, resource)
}

_type_facts_fine("client", resource) if _fields_fine(resource, _client_facts)

_type_facts_fine("account", resource) if _fields_fine(resource, _account_facts)

_type_facts_fine("user", resource) if {
	_fields_fine(resource, _user_facts)
	_permissions_fine(object.get(resource, "permissions", null))
	count(_attribute_client_problems(resource)) == 0
}

_type_facts_fine("item", resource) if {
	_fields_fine(resource, _item_facts)
	_item_client_fine(resource)
}

_item_client_fine(resource) if not is_string(object.get(resource, "client_id", null))

_item_client_fine(resource) if {
	is_string(resource.client_id)
	_fields_fine(resource.client, _client_facts)
}

_fields_fine(record, fields) if {
	every name, kind in fields {
		_valid(kind, _get(record, name))
	}
}

# precheck_agrees(req) holds when the one-pass checks of the request and of its resource say
# "fine" exactly when the full checks find no problem. The differential test asks it of every
# input of its corpus (test/differential/opa.ts).
precheck_agrees(req) if not is_object(req)

precheck_agrees(req) if {
	is_object(req)
	_request_check_agrees(req)
	_resource_check_agrees(req, object.get(req, "resource", null))
}

_request_check_agrees(req) if {
	_request_fine(req)
	count(_request_problems(req)) == 0
}

_request_check_agrees(req) if {
	not _request_fine(req)
	count(_request_problems(req)) > 0
}

_resource_check_agrees(req, resource) if {
	_resource_fine(req, resource)
	count(_resource_problems(req, resource)) == 0
}

_resource_check_agrees(req, resource) if {
	not _resource_fine(req, resource)
	count(_resource_problems(req, resource)) > 0
}
