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
import data.clearance.validation.tables

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
	_value_problems("action", object.get(req, "action", null), tables.kinds.string),
	_value_problems("subject", object.get(req, "subject", null), tables.kinds.object),
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
	_field_problems("resource", resource, tables.resource_fields),
	_proposal_problems(object.get(req, "action", null), resource),
	_lookup_problems(req, resource),
	_fact_problems(req, resource),
})

# client_problems(req, row) are the problems of a client given as a row of a list
# (clients.row_resource): the problems of the client resource it stands for.
client_problems(req, row) := resource_problems(req, resource) if {
	resource := clients.row_resource(row)
} else := {"client must be an array of id, account_id, ledger, allocated and ledger_access"}

# ---- fields and their kinds of value (the tables are in tables.rego) -------------------------

# _valid(kind, value) holds when value is of the kind, one of tables.kinds.
_valid(kind, value) if type_name(value) in kind.types

_valid(kind, value) if value in kind.values

# _field_problems(path, record, fields) has one problem per field of the record at path whose
# value (null when missing, or when the record is not an object) is not of its kind.
_field_problems(path, record, fields) := {_problem(concat(".", [path, name]), kind) |
	some name, kind in fields
	not _valid(kind, _get(record, name))
}

_value_problems(path, value, kind) := {_problem(path, kind) | not _valid(kind, value)}

_problem(path, kind) := concat("", [path, " must be ", kind.must_be])

_get(record, name) := object.get(record, name, null) if {
	is_object(record)
} else := null

# ---- the subject and its account -----------------------------------------------------------

_subject_problems(subject) := _field_problems("subject", subject, tables.subject_fields) if {
	is_object(subject)
} else := set()

# The facts of a subject and its account are checked when the subject was found.
_subject_fact_problems(req) := union({
	_field_problems("subject", req.subject, tables.subject_facts),
	_permission_problems("subject.permissions", object.get(req.subject, "permissions", null)),
	_value_problems("account", object.get(req, "account", null), tables.kinds.object),
	_field_problems("account", object.get(req, "account", null), tables.account_fields),
	_consistency_problems(req),
}) if {
	req.subject.found == true
} else := set()

# The values of a permissions object; none when it is not an object (checked on its own).
_permission_problems(path, permissions) := _field_problems(path, permissions, tables.permissions) if {
	is_object(permissions)
} else := set()

# Checks across fields: the subject's account must be the one described, and a
# role must belong to its account's kind (SPEC §1).
_consistency_problems(req) := {"account.id must equal subject.account_id" |
	is_string(req.account.id)
	req.account.id != req.subject.account_id
} | {"subject.role must belong to account.kind" |
	_valid(tables.kinds.account_kind, req.account.kind)
	lib.known_role(req.subject.role)
	not lib.role_of_kind(req.subject.role, req.account.kind)
}

# ---- proposed values (SPEC §2.4a) ------------------------------------------------------------

# Proposed values are judged on user resources only; other resource types keep free-form
# attributes.
_proposal_problems(action, resource) := union({
	_field_problems("resource.attributes", resource.attributes, tables.proposal_fields),
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
	not tables.permissions[name]
}

# _not_taken(action, attributes) are the proposed values of attributes the action does not take.
# A null role, status, permissions or client_id proposes nothing; a null mode is the role
# default and a null link clears it, so those are proposals.
_not_taken(action, attributes) := {name |
	some name, value in attributes
	name in lib.tables.resource_attributes
	_proposes(name, value)
	taken := tables.takes[action]
	not name in taken
}

_proposes(_, value) if value != null

_proposes(name, null) if name in {"client_access_mode", "xpm_staff_id"}

_not_taken_problem(action, name) := concat("", [
	"resource.attributes.", name, " cannot be proposed with ", action,
	" (ask ", tables.action_taking[name], ")",
])

# ---- looking the resource up, and its facts --------------------------------------------------

# The loader looks a resource up by id, except for user.create: it names no existing user, so
# neither id nor found is demanded, and an id is refused (the decision would otherwise be read
# as one about the user it names).
_looked_up(req) if req.action != "user.create"

_lookup_problems(req, resource) := _field_problems("resource", resource, tables.lookup_fields) if {
	_looked_up(req)
} else := {"resource.id must not be given for user.create: it names no existing user" |
	resource.type == "user"
	_ := resource.id
}

_fact_problems(req, resource) := union({
	_field_problems("resource", resource, tables.found_fields),
	_type_fact_problems(object.get(resource, "type", null), resource),
}) if {
	_looked_up(req)
	resource.found == true
} else := set()

_type_fact_problems("client", resource) := _field_problems("resource", resource, tables.client_facts)

_type_fact_problems("account", resource) := _field_problems("resource", resource, tables.account_facts)

_type_fact_problems("user", resource) := union({
	_field_problems("resource", resource, tables.user_facts),
	_permission_problems("resource.permissions", object.get(resource, "permissions", null)),
	_attribute_client_problems(resource),
})

_type_fact_problems("item", resource) := union({
	_field_problems("resource", resource, tables.item_facts),
	_item_client_problems(resource),
})

_type_fact_problems(type, _) := set() if not catalogue.is_resource_type(type)

# The loader looks attributes.client_id up for user resources (user.client_access.edit): the
# client's facts, with the target's ledger access and the subject's own access to it.
_attribute_client_problems(resource) := union({
	_value_problems("resource.attribute_client", client, tables.kinds.object),
	_field_problems("resource.attribute_client", client, tables.attribute_client_fields),
	_found_attribute_client_problems(client),
}) if {
	is_string(resource.attributes.client_id)
	client := object.get(resource, "attribute_client", null)
} else := set()

_found_attribute_client_problems(client) := _field_problems(
	"resource.attribute_client",
	client,
	tables.attribute_client_facts,
) if {
	client.found == true
} else := set()

# An item of a client carries the client's facts.
_item_client_problems(resource) := union({
	_value_problems("resource.client", client, tables.kinds.object),
	_field_problems("resource.client", client, tables.client_facts),
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
	_fields_fine(req.subject, tables.subject_fields)
	_subject_facts_fine(req)
}

_subject_facts_fine(req) if req.subject.found == false

_subject_facts_fine(req) if {
	req.subject.found == true
	_fields_fine(req.subject, tables.subject_facts)
	_permissions_fine(object.get(req.subject, "permissions", null))
	_fields_fine(req.account, tables.account_fields)
	count(_consistency_problems(req)) == 0
}

# A permissions object that is not an object is the subject's or the target's own problem.
_permissions_fine(permissions) if not is_object(permissions)

_permissions_fine(permissions) if _fields_fine(permissions, tables.permissions)

_resource_fine(req, resource) if {
	_fields_fine(resource, tables.resource_fields)
	count(_proposal_problems(object.get(req, "action", null), resource)) == 0
	_lookup_fine(req, resource)
	_facts_fine(req, resource)
}

_lookup_fine(req, resource) if {
	_looked_up(req)
	_fields_fine(resource, tables.lookup_fields)
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
	_fields_fine(resource, tables.found_fields)
	_type_facts_fine(resource.type, resource)
}

_type_facts_fine("client", resource) if _fields_fine(resource, tables.client_facts)

_type_facts_fine("account", resource) if _fields_fine(resource, tables.account_facts)

_type_facts_fine("user", resource) if {
	_fields_fine(resource, tables.user_facts)
	_permissions_fine(object.get(resource, "permissions", null))
	count(_attribute_client_problems(resource)) == 0
}

_type_facts_fine("item", resource) if {
	_fields_fine(resource, tables.item_facts)
	_item_client_fine(resource)
}

_item_client_fine(resource) if not is_string(object.get(resource, "client_id", null))

_item_client_fine(resource) if {
	is_string(resource.client_id)
	_fields_fine(resource.client, tables.client_facts)
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
