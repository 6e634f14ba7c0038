# The tables of the input checks in validation.rego: the fields of each record with the kind
# of value each holds, what each kind of value must be, and which proposed values each user
# edit takes. Constant tables only (see policies/README.md, "Tables"): the build
# evaluates this file once and ships its values as data, so a decision does not rebuild them.
package clearance.validation.tables

import data.clearance.catalogue
import data.clearance.lib

# ---- what each kind of value must be -----------------------------------------------------

# A kind of value is either JSON types (types) or a list of names (values), and what the
# message says it must be (must_be). The field tables below hold the kind itself, so checking a
# field looks nothing up.
kinds := {
	"string": {"types": {"string"}, "must_be": "a string"},
	"string_or_null": {"types": {"string", "null"}, "must_be": "a string or null"},
	"boolean": {"types": {"boolean"}, "must_be": "a boolean"},
	"boolean_or_null": {"types": {"boolean", "null"}, "must_be": "a boolean or null"},
	"object": {"types": {"object"}, "must_be": "an object"},
	"object_or_null": {"types": {"object", "null"}, "must_be": "an object or null"},
	"role": {"values": role_names, "must_be": "a known role"},
	"status": {"values": {"active", "suspended"}, "must_be": "active or suspended"},
	"status_or_null": {"values": {"active", "suspended", null}, "must_be": "active, suspended or null"},
	"mode_or_null": {
		"values": (lib.tables.client_access_modes | {null}),
		"must_be": "all, selected, ledger_all, ledger_selected or null",
	},
	"publishing_or_null": {
		"values": {"all", "expense_claims_only", "none", null},
		"must_be": "all, expense_claims_only, none or null",
	},
	"account_kind": {"values": {"practice", "business"}, "must_be": "practice or business"},
	"resource_type": {"values": catalogue.tables.resource_type_names, "must_be": "client, account, user or item"},
	"ledger": {"values": {"xero", "myob", "quickbooks", "none"}, "must_be": "xero, myob, quickbooks or none"},
	"item_kind": {"values": {"expense_claim", "receipt", "invoice"}, "must_be": "expense_claim, receipt or invoice"},
}

role_names := {role | some kind_roles in lib.tables.roles; some role in kind_roles}

# ---- the fields of each record, and the kind of value each holds -----------------------------

subject_fields := {"id": kinds.string, "found": kinds.boolean}

# The facts of a user, the subject's or a target's (SPEC §1).
user_facts := {
	"role": kinds.role,
	"status": kinds.status,
	"client_access_mode": kinds.mode_or_null,
	"permissions": kinds.object_or_null,
	"xpm_staff_id": kinds.string_or_null,
}

subject_facts := object.union(user_facts, {"account_id": kinds.string})

permissions := {
	"add_clients": kinds.boolean_or_null,
	"practice_insights": kinds.boolean_or_null,
	"manage_business": kinds.boolean_or_null,
	"create_expense_claims": kinds.boolean_or_null,
	"publishing": kinds.publishing_or_null,
}

account_fields := {"id": kinds.string, "kind": kinds.account_kind}

resource_fields := {"type": kinds.resource_type, "attributes": kinds.object_or_null}

# The proposed values a user resource may carry (SPEC §2.4a).
proposal_fields := {
	"role": kinds.string_or_null,
	"client_id": kinds.string_or_null,
	"client_access_mode": kinds.mode_or_null,
	"permissions": kinds.object_or_null,
	"status": kinds.status_or_null,
	"xpm_staff_id": kinds.string_or_null,
}

lookup_fields := {"id": kinds.string, "found": kinds.boolean}

found_fields := {"account_id": kinds.string}

# A client's facts, relative to the subject (SPEC §2.2).
client_facts := {"account_id": kinds.string, "ledger": kinds.ledger, "allocated": kinds.boolean, "ledger_access": kinds.boolean}

account_facts := {"kind": kinds.account_kind}

item_facts := {"client_id": kinds.string_or_null, "owner_user_id": kinds.string, "kind": kinds.item_kind}

attribute_client_fields := {"found": kinds.boolean}

# The client being allocated (user.client_access.edit): its facts, with the target's ledger
# access and the subject's own access to it.
attribute_client_facts := {
	"account_id": kinds.string,
	"ledger": kinds.ledger,
	"ledger_access": kinds.boolean,
	"subject_allocated": kinds.boolean,
	"subject_ledger_access": kinds.boolean,
}

# ---- proposed values each user edit takes (SPEC §2.4a) --------------------------------------

# Each edit takes only the proposed values it judges: user.profile.edit none (name and profile
# fields are not judged, SPEC §2.4a), user.xpm_link.edit the link only, a create or update all
# but the client being allocated, which is user.client_access.edit's. A value an edit does not
# take is refused rather than ignored, so a caller cannot have it applied unjudged. The other
# user actions change no field, and their attributes are not read.
takes := {
	"user.create": proposed_fields,
	"user.update": proposed_fields,
	"user.client_access.edit": lib.tables.resource_attributes,
	"user.xpm_link.edit": {"xpm_staff_id"},
	"user.profile.edit": set(),
}

proposed_fields := {"role", "client_access_mode", "permissions", "status", "xpm_staff_id"}

# The action to ask for a proposed value, for the message refusing it elsewhere.
action_taking := {
	"role": "user.update",
	"client_access_mode": "user.update",
	"permissions": "user.update",
	"status": "user.update",
	"xpm_staff_id": "user.xpm_link.edit",
	"client_id": "user.client_access.edit",
}
