# METADATA
# title: Input validation
# description: |
#   Checks the shape of one decision request before any rule looks at it, so that
#   malformed input is refused with invalid_input instead of being decided on
#   missing facts. problems(req) is the set of messages, empty when the input is fine.
#   Each group of checks first tries one conjunction of every check (one pass with
#   no allocation, the common case); only when it fails are the messages collected.
package clearance.validation

import data.clearance.catalogue
import data.clearance.lib

# problems(req) lists what is wrong with a request, one message per problem.
problems(req) := {"input must be an object"} if {
	not is_object(req)
} else := set() if {
	is_string(req.action)
	_subject_fine(req)
	_resource_fine(req.action, req.resource)
} else := request_problems(req) | resource_problems(req, object.get(req, "resource", null))

# request_problems(req) are the problems of everything but the resource: the action,
# the subject, its account, and how they fit together. A list of resources shares them.
request_problems(req) := set() if {
	is_string(req.action)
	_subject_fine(req)
} else := union({
	{"action must be a string" | not is_string(object.get(req, "action", null))},
	{"subject must be an object" | not is_object(object.get(req, "subject", null))},
	_subject_problems(object.get(req, "subject", null)),
	_subject_fact_problems(req),
	_consistency_problems(req),
})

# resource_problems(req, resource) are the problems of one resource of req; facts are
# checked only when the context loader says the record was found.
resource_problems(req, resource) := {"resource must be an object"} if {
	not is_object(resource)
} else := set() if {
	_resource_fine(req.action, resource)
} else := union({
	_resource_field_problems(resource),
	_proposal_problems(object.get(req, "action", null), resource),
	_lookup_problems(req, resource),
	_fact_problems(req, resource),
})

# client_problems(req, client) are the problems of a client given as
# [id, account_id, ledger, allocated, ledger_access] in a list (see decisions in main.rego):
# the problems of the client resource it stands for.
client_problems(req, client) := row_problems(req, id, account_id, ledger, allocated, ledger_access) if {
	[id, account_id, ledger, allocated, ledger_access] := client
} else := {"client must be an array of id, account_id, ledger, allocated and ledger_access"}

# row_problems(req, id, account_id, ledger, allocated, ledger_access) are the problems of
# the client resource a row of a list stands for, given its values.
row_problems(req, id, account_id, ledger, allocated, ledger_access) := set() if {
	is_string(id)
	is_string(account_id)
	_ledger(ledger)
	is_boolean(allocated)
	is_boolean(ledger_access)
} else := set() if {
	not _looked_up(req)
} else := union({
	{"resource.id must be a string" | not is_string(id)},
	{"resource.account_id must be a string" | not is_string(account_id)},
	{"resource.ledger must be xero, myob, quickbooks or none" | not _ledger(ledger)},
	{"resource.allocated must be a boolean" | not is_boolean(allocated)},
	{"resource.ledger_access must be a boolean" | not is_boolean(ledger_access)},
})

# ---- the subject and its account -------------------------------------------------------

_subject_fine(req) if {
	req.subject.found == false
	is_string(req.subject.id)
}

_subject_fine(req) if {
	subject := req.subject
	subject.found == true
	is_string(subject.id)
	is_string(subject.account_id)
	lib.role_of_kind(subject.role, req.account.kind)
	_status(subject.status)
	_optional_mode(object.get(subject, "client_access_mode", null))
	_permissions_fine(object.get(subject, "permissions", null))
	_optional_string(object.get(subject, "xpm_staff_id", null))
	req.account.id == subject.account_id
}

_permissions_fine(null)

_permissions_fine(permissions) if {
	is_object(permissions)
	_optional_boolean(object.get(permissions, "add_clients", null))
	_optional_boolean(object.get(permissions, "practice_insights", null))
	_optional_boolean(object.get(permissions, "manage_business", null))
	_optional_boolean(object.get(permissions, "create_expense_claims", null))
	_publishing(object.get(permissions, "publishing", null))
}

_subject_problems(subject) := set() if {
	not is_object(subject)
} else := union({
	{"subject.id must be a string" | not is_string(object.get(subject, "id", null))},
	{"subject.found must be a boolean" | not is_boolean(object.get(subject, "found", null))},
})

_subject_fact_problems(req) := set() if {
	not req.subject.found == true
} else := union({
	{"subject.account_id must be a string" | not is_string(object.get(req.subject, "account_id", null))},
	{"subject.role must be a known role" | not lib.known_role(object.get(req.subject, "role", null))},
	{"subject.status must be active or suspended" | not _status(object.get(req.subject, "status", null))},
	{
	"subject.client_access_mode must be all, selected, ledger_all, ledger_selected or null" |
		not _optional_mode(object.get(req, ["subject", "client_access_mode"], null))
	},
	{
	"subject.permissions must be an object or null" |
		not _optional_object(object.get(req, ["subject", "permissions"], null))
	},
	_permission_problems(req),
	{
	"subject.xpm_staff_id must be a string or null" |
		not _optional_string(object.get(req, ["subject", "xpm_staff_id"], null))
	},
	{"account must be an object" | not is_object(object.get(req, "account", null))},
	{"account.id must be a string" | not is_string(object.get(req, ["account", "id"], null))},
	{"account.kind must be practice or business" | not _kind(object.get(req, ["account", "kind"], null))},
})

_permission_problems(req) := _permission_value_problems(
	"subject.permissions",
	object.get(req, ["subject", "permissions"], null),
)

# _permission_value_problems(prefix, permissions) are the problems of the values of a
# permissions object found at prefix; none when it is not an object (checked on its own).
_permission_value_problems(prefix, permissions) := set() if {
	not is_object(permissions)
} else := {concat("", [prefix, ".", name, " must be a boolean or null"]) |
	some name in ["add_clients", "practice_insights", "manage_business", "create_expense_claims"]
	not _optional_boolean(object.get(permissions, name, null))
} | {concat("", [prefix, ".publishing must be all, expense_claims_only, none or null"]) |
	not _publishing(object.get(permissions, "publishing", null))
}

# Checks across fields: the subject's account must be the one described, and a
# role must belong to its account's kind (SPEC §1).
_consistency_problems(req) := {"account.id must equal subject.account_id" |
	req.subject.found == true
	is_string(req.account.id)
	req.account.id != req.subject.account_id
} | {"subject.role must belong to account.kind" |
	req.subject.found == true
	_kind(req.account.kind)
	lib.known_role(req.subject.role)
	not lib.role_of_kind(req.subject.role, req.account.kind)
}

# ---- the resource ----------------------------------------------------------------------

_resource_fine(action, resource) if {
	catalogue.is_resource_type(resource.type)
	_attributes_fine(action, resource.type, object.get(resource, "attributes", null))
	_lookup_fine(action, resource)
}

_attributes_fine(_, _, null)

_attributes_fine(action, type, attributes) if {
	is_object(attributes)
	_proposal_fine(action, type, attributes)
}

# Proposed values (SPEC §2.4a) are judged on user resources only; other resource types keep
# free-form attributes.
_proposal_fine(_, type, _) if type != "user"

_proposal_fine(action, "user", attributes) if {
	_optional_string(object.get(attributes, "role", null))
	_optional_string(object.get(attributes, "client_id", null))
	_optional_mode(object.get(attributes, "client_access_mode", null))
	_proposed_permissions_fine(object.get(attributes, "permissions", null))
	_optional_status(object.get(attributes, "status", null))
	_optional_string(object.get(attributes, "xpm_staff_id", null))
	count(_not_taken(action, attributes)) == 0
}

_proposed_permissions_fine(null)

_proposed_permissions_fine(permissions) if {
	_permissions_fine(permissions)
	every name, _ in permissions {
		_is_permission(name)
	}
}

_is_permission(name) if _ = lib.permission_default(name)

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

_proposes("client_access_mode", null)

_proposes("xpm_staff_id", null)

# user.create names no existing user, so neither id nor found is demanded, and an id is refused:
# the decision would otherwise be read as one about the user it names.
_lookup_fine("user.create", resource) if not _names_a_user(resource)

_lookup_fine(action, resource) if {
	action != "user.create"
	is_string(resource.id)
	resource.found == false
}

_lookup_fine(action, resource) if {
	action != "user.create"
	is_string(resource.id)
	resource.found == true
	is_string(resource.account_id)
	_facts_fine(resource.type, resource)
}

_facts_fine("client", resource) if _client_facts_fine(resource)

_facts_fine("account", resource) if _kind(resource.kind)

_facts_fine("user", resource) if {
	lib.known_role(resource.role)
	_status(resource.status)
	_optional_mode(object.get(resource, "client_access_mode", null))
	_permissions_fine(object.get(resource, "permissions", null))
	_optional_string(object.get(resource, "xpm_staff_id", null))
	_attribute_client_fine(resource)
}

_facts_fine("item", resource) if {
	_optional_string(object.get(resource, "client_id", null))
	is_string(resource.owner_user_id)
	_item_kind(resource.kind)
	_item_client_fine(resource)
}

_client_facts_fine(client) if {
	_ledger(client.ledger)
	is_boolean(client.allocated)
	is_boolean(client.ledger_access)
}

_attribute_client_fine(resource) if not _names_attribute_client(resource)

_attribute_client_fine(resource) if {
	_names_attribute_client(resource)
	resource.attribute_client.found == false
}

_attribute_client_fine(resource) if {
	_names_attribute_client(resource)
	client := resource.attribute_client
	client.found == true
	is_string(client.account_id)
	_ledger(client.ledger)
	is_boolean(client.ledger_access)
	is_boolean(client.subject_allocated)
	is_boolean(client.subject_ledger_access)
}

_item_client_fine(resource) if not is_string(object.get(resource, "client_id", null))

_item_client_fine(resource) if {
	is_string(resource.client_id)
	is_object(resource.client)
	is_string(resource.client.account_id)
	_client_facts_fine(resource.client)
}

_resource_field_problems(resource) := union({
	{"resource.type must be client, account, user or item" | not catalogue.is_resource_type(object.get(resource, "type", null))},
	{
	"resource.attributes must be an object or null" |
		not _optional_object(object.get(resource, "attributes", null))
	},
})

# The problems of the proposed values of a user resource (see _proposal_fine).
_proposal_problems(action, resource) := set() if {
	object.get(resource, "type", null) != "user"
} else := set() if {
	not is_object(object.get(resource, "attributes", null))
} else := _attribute_problems(action, resource.attributes)

_attribute_problems(action, attributes) := union({
	{"resource.attributes.role must be a string or null" | not _optional_string(object.get(attributes, "role", null))},
	{
	"resource.attributes.client_id must be a string or null" |
		not _optional_string(object.get(attributes, "client_id", null))
	},
	{
	"resource.attributes.client_access_mode must be all, selected, ledger_all, ledger_selected or null" |
		not _optional_mode(object.get(attributes, "client_access_mode", null))
	},
	_proposed_permission_problems(object.get(attributes, "permissions", null)),
	{
	"resource.attributes.status must be active, suspended or null" |
		not _optional_status(object.get(attributes, "status", null))
	},
	{
	"resource.attributes.xpm_staff_id must be a string or null" |
		not _optional_string(object.get(attributes, "xpm_staff_id", null))
	},
	{_not_taken_problem(action, name) | some name in _not_taken(action, attributes)},
})

_not_taken_problem(action, name) := concat("", [
	"resource.attributes.", name, " cannot be proposed with ", action,
	" (ask ", _action_taking[name], ")",
])

_proposed_permission_problems(permissions) := {"resource.attributes.permissions must be an object or null"} if {
	not _optional_object(permissions)
} else := _permission_value_problems("resource.attributes.permissions", permissions) | {
concat("", ["resource.attributes.permissions.", name, " is not a permission"]) |
	some name, _ in permissions
	not _is_permission(name)
}

# The loader looks a resource up by id, except for user.create.
_looked_up(req) if req.action != "user.create"

# A user resource with an id, of any value.
_names_a_user(resource) if {
	resource.type == "user"
	_ := resource.id
}

_lookup_problems(req, resource) := {"resource.id must not be given for user.create: it names no existing user" |
	_names_a_user(resource)
} if {
	not _looked_up(req)
} else := {"resource.id must be a string" | not is_string(object.get(resource, "id", null))} | {
"resource.found must be a boolean" |
	not is_boolean(object.get(resource, "found", null))
}

_fact_problems(req, resource) := set() if {
	not _looked_up(req)
} else := set() if {
	not resource.found == true
} else := {"resource.account_id must be a string" | not is_string(object.get(resource, "account_id", null))} | _type_problems(
	object.get(resource, "type", null),
	resource,
)

_type_problems("client", resource) := _client_fact_problems("resource", resource)

_type_problems("account", resource) := {"resource.kind must be practice or business" | not _kind(object.get(resource, "kind", null))}

_type_problems("user", resource) := union({
	{"resource.role must be a known role" | not lib.known_role(object.get(resource, "role", null))},
	{"resource.status must be active or suspended" | not _status(object.get(resource, "status", null))},
	{
	"resource.client_access_mode must be all, selected, ledger_all, ledger_selected or null" |
		not _optional_mode(object.get(resource, "client_access_mode", null))
	},
	{"resource.permissions must be an object or null" | not _optional_object(object.get(resource, "permissions", null))},
	_permission_value_problems("resource.permissions", object.get(resource, "permissions", null)),
	{
	"resource.xpm_staff_id must be a string or null" |
		not _optional_string(object.get(resource, "xpm_staff_id", null))
	},
	_attribute_client_problems(resource),
})

_type_problems("item", resource) := union({
	{"resource.client_id must be a string or null" | not _optional_string(object.get(resource, "client_id", null))},
	{"resource.owner_user_id must be a string" | not is_string(object.get(resource, "owner_user_id", null))},
	{"resource.kind must be expense_claim, receipt or invoice" | not _item_kind(object.get(resource, "kind", null))},
	_item_client_problems(resource),
})

_type_problems(type, _) := set() if not catalogue.is_resource_type(type)

# The loader looks attributes.client_id up for user resources (user.client_access.edit).
_names_attribute_client(resource) if is_string(resource.attributes.client_id)

_attribute_client_problems(resource) := set() if {
	not _names_attribute_client(resource)
} else := union({
	{"resource.attribute_client must be an object" | not is_object(object.get(resource, "attribute_client", null))},
	{"resource.attribute_client.found must be a boolean" | not is_boolean(object.get(resource, ["attribute_client", "found"], null))},
	_attribute_client_fact_problems(object.get(resource, "attribute_client", null)),
})

_attribute_client_fact_problems(client) := set() if {
	not client.found == true
} else := union({
	{"resource.attribute_client.account_id must be a string" | not is_string(object.get(client, "account_id", null))},
	{"resource.attribute_client.ledger must be xero, myob, quickbooks or none" | not _ledger(object.get(client, "ledger", null))},
	{"resource.attribute_client.ledger_access must be a boolean" | not is_boolean(object.get(client, "ledger_access", null))},
	{
	"resource.attribute_client.subject_allocated must be a boolean" |
		not is_boolean(object.get(client, "subject_allocated", null))
	},
	{
	"resource.attribute_client.subject_ledger_access must be a boolean" |
		not is_boolean(object.get(client, "subject_ledger_access", null))
	},
})

_item_client_problems(resource) := set() if {
	not is_string(object.get(resource, "client_id", null))
} else := {"resource.client must be an object" | not is_object(object.get(resource, "client", null))} | _client_fact_problems(
	"resource.client",
	object.get(resource, "client", null),
)

# _client_fact_problems(prefix, client) checks the facts of a client found at prefix.
_client_fact_problems(prefix, client) := {concat("", [prefix, ".", problem]) |
	some problem in _client_fact_problem_list(client)
}

_client_fact_problem_list(client) := union({
	{"account_id must be a string" | not is_string(object.get(client, "account_id", null))},
	{"ledger must be xero, myob, quickbooks or none" | not _ledger(object.get(client, "ledger", null))},
	{"allocated must be a boolean" | not is_boolean(object.get(client, "allocated", null))},
	{"ledger_access must be a boolean" | not is_boolean(object.get(client, "ledger_access", null))},
}) if {
	is_object(client)
} else := {
	"account_id must be a string",
	"ledger must be xero, myob, quickbooks or none",
	"allocated must be a boolean",
	"ledger_access must be a boolean",
}

# ---- values ----------------------------------------------------------------------------

_optional_string(null)

_optional_string(value) if is_string(value)

_optional_boolean(null)

_optional_boolean(value) if is_boolean(value)

_optional_object(null)

_optional_object(value) if is_object(value)

_optional_mode(null)

_optional_mode(mode) if lib.known_client_access_mode(mode)

_status("active")

_status("suspended")

_optional_status(null)

_optional_status(status) if _status(status)

_kind("practice")

_kind("business")

_ledger("xero")

_ledger("myob")

_ledger("quickbooks")

_ledger("none")

_item_kind("expense_claim")

_item_kind("receipt")

_item_kind("invoice")

_publishing("all")

_publishing("expense_claims_only")

_publishing("none")

_publishing(null)
