# METADATA
# title: User management
# description: |
#   SPEC §2.4 and §2.4a: who may view, create, change, suspend, enable and remove users,
#   edit their client access and their practice-manager link, and which values may be
#   proposed. The resource is the target user; attributes carry the proposed values
#   (role, client_access_mode, permissions, status, xpm_staff_id, client_id).
package clearance.users

import data.clearance.catalogue
import data.clearance.clients
import data.clearance.lib

# denials(req) are the deny reasons for a user action: codes, and grant_exceeds_own_access
# reasons with a message saying what exceeds. A proposal is judged as a whole: every refusal
# that applies is listed.
denials(req) := union({
	{"role_not_permitted" |
		not _self_service(req)
		not lib.is_admin(req.subject)
	},
	_protection_denials(req),
	_proposal_denials(req),
	_self_denials(req),
	_allocation_denials(req),
	_link_denials(req),
	_grant_denials(req),
})

# grants(req) are the rules that grant a user action.
grants(req) := union({
	{"self_service" | _self_service(req)},
	{"top_admin" | lib.is_top_admin(req.subject)},
	{"sub_admin" | lib.is_sub_admin(req.subject)},
})

deny_codes := {
	"role_not_permitted", "admin_target_protected", "invalid_role", "role_phased_out",
	"self_action_not_allowed", "ledger_access_required", "client_not_found", "tenant_mismatch",
	"account_kind_not_supported", "grant_exceeds_own_access",
}

grant_codes := {"self_service", "top_admin", "sub_admin"}

# The messages of this area's own codes (role_not_permitted and the like: lib.messages;
# tenant_mismatch and account_kind_not_supported: the "always first" stage; ledger_access_required:
# clients).
messages := {
	"admin_target_protected": "a sub admin may not manage a top admin or grant the top admin role",
	"invalid_role": "the proposed role does not exist for this kind of account",
	"role_phased_out": "the expense approver role is being phased out and cannot be newly given",
	"self_action_not_allowed": concat("", [
		"users may not suspend or remove themselves, nor change their own role, status, client access or ",
		"permissions; only the top admin may set their own practice-manager link",
	]),
	"grant_exceeds_own_access": "a sub admin may not give another user access it does not have itself",
	"client_not_found": "the client to allocate does not exist",
	"self_service": "users may view and edit their own profile",
}

# Everyone may look at and edit their own profile.
_self_service(req) if {
	_is_self(req)
	_self_service_action(req.action)
}

_self_service_action(action) if action in {"user.view", "user.profile.edit"}

# A sub admin may not act on a top admin, nor make anyone a top admin. Viewing is not acting:
# sub admins list every user (users.list), so they may open a top admin's profile too; the
# help article restricts only creating, updating, suspending, enabling and removing them.
_protection_denials(req) := {"admin_target_protected" |
	lib.is_sub_admin(req.subject)
	not _sub_admin_may_on_top_admin(req.action)
	req.resource.role == lib.top_admin_role(req.account.kind)
} | {"admin_target_protected" |
	lib.is_sub_admin(req.subject)
	_proposed_role(req) == lib.top_admin_role(req.account.kind)
}

_sub_admin_may_on_top_admin(action) if action in {"user.create", "user.view"}

# expense_approver exists in both kinds, so it is never an invalid_role, only role_phased_out.
# Nobody may be created as, or changed into, an expense approver; existing ones keep it.
_proposal_denials(req) := {"invalid_role" |
	role := _proposed_role(req)
	not lib.role_of_kind(role, req.account.kind)
} | {"role_phased_out" |
	_proposed_role(req) == "expense_approver"
	_becomes_expense_approver(req)
}

# Nobody suspends, removes or edits the client access of themselves, or changes their own role,
# status, client access mode or permissions, whatever their role (SPEC §2.4a): an account cannot
# lock itself out by accident, and a sub admin cannot lift restrictions set for them. Only the
# top admin may set their own practice-manager link.
_self_denials(req) := union({
	{"self_action_not_allowed" |
		_is_self(req)
		_not_on_self(req.action)
	},
	{"self_action_not_allowed" |
		_is_self(req)
		some field in _changed_fields(req)
		field in _not_changed_on_self
	},
	{"self_action_not_allowed" |
		_is_self(req)
		_edits_link(req)
		not lib.is_top_admin(req.subject)
	},
})

_not_on_self(action) if action in {"user.suspend", "user.remove", "user.client_access.edit"}

_not_changed_on_self := {"role", "status", "client_access_mode", "permissions"}

# The client being allocated: greyed out when the target needs Xero access to it first;
# it must exist, and belong to the subject's account.
_allocation_denials(req) := union({
	{"ledger_access_required" |
		client := _allocated_client(req)
		client.found == true
		client.ledger == "xero"
		lib.client_access_mode(req.resource) == "ledger_selected"
		not client.ledger_access == true
	},
	{"client_not_found" | _allocated_client(req).found == false},
	{"tenant_mismatch" |
		client := _allocated_client(req)
		client.found == true
		client.account_id != req.subject.account_id
	},
})

# ---- the practice-manager link (SPEC §2.4a) --------------------------------------------------

# Setting or clearing xpm_staff_id is user.xpm_link.edit, and a proposal that changes it is
# judged as that action too: the role and protection rules above already apply to both, so
# what is left is the kind of account (and oneself, in _self_denials).
_edits_link(req) if req.action == "user.xpm_link.edit"

_edits_link(req) if "xpm_staff_id" in _changed_fields(req)

_link_denials(req) := {"account_kind_not_supported" |
	_edits_link(req)
	not catalogue.exists_in("user.xpm_link.edit", req.account.kind)
}

# ---- no granting what one does not have (SPEC §2.4a) -----------------------------------------

# A sub admin may not give another user access it lacks itself. Only client admins can lack
# any: the top admin is never limited, and business user admins manage all financial data by
# role while business accounts have no clients. Each excess is a reason of its own, saying
# which client, mode or permission exceeds the admin's own access.
_grant_denials(req) := union({
	_allocation_excess(req),
	_mode_excess(req),
	_permission_excess(req),
}) if {
	req.subject.role == "client_admin"
	not _is_self(req)
} else := set()

_exceeds(message) := {"code": "grant_exceeds_own_access", "message": message}

# Allocating a client the admin has no client access to itself (SPEC §2.2, with the admin's own
# allocation and ledger access to that client).
_allocation_excess(req) := {_exceeds(concat("", ["may not allocate client ", id, ": ", concat(" and ", causes)])) |
	client := _allocated_client(req)
	client.found == true
	client.account_id == req.subject.account_id
	access := clients.access(req.subject)
	own := {"ledger": client.ledger, "allocated": client.subject_allocated, "ledger_access": client.subject_ledger_access}
	own_denials := clients.access_denials(access, own)
	count(own_denials) > 0
	id := req.resource.attributes.client_id
	causes := [_allocation_cause[code] | some code in sort(own_denials)]
}

_allocation_cause := {
	"client_not_allocated": "it is not allocated to the admin",
	"ledger_access_required": "the admin has no Xero access to it",
}

# A client access mode broader than the admin's own. It is judged on user.create, and on an
# update only when it proposes a change of role or mode.
_mode_excess(req) := {_exceeds(concat("", [
	"may not give client access mode ", mode, ": it is broader than the admin's own (", own, ")",
])) |
	_mode_judged(req)
	mode := _mode_to_be(req)
	lib.known_client_access_mode(mode)
	own := lib.client_access_mode(req.subject)
	not mode in _modes_covered[own]
}

# The modes each mode covers: none of them reaches a client the covering mode does not.
_modes_covered := {
	"all": {"all", "selected", "ledger_all", "ledger_selected"},
	"ledger_all": {"ledger_all", "ledger_selected"},
	"selected": {"selected", "ledger_selected"},
	"ledger_selected": {"ledger_selected"},
}

_mode_judged(req) if req.action == "user.create"

_mode_judged(req) if "role" in _changed_fields(req)

_mode_judged(req) if "client_access_mode" in _changed_fields(req)

# The mode the target will have: the proposed mode, else the stored one, else the default of
# the role it will have (proposed or current; "none" for a role without clients or no role).
_mode_to_be(req) := mode if {
	mode := _mode_value_to_be(req)
	lib.known_client_access_mode(mode)
} else := lib.client_access_mode({"role": _role_to_be(req)})

_mode_value_to_be(req) := req.resource.attributes.client_access_mode if {
	_proposes(req, "client_access_mode")
} else := object.get(_current(req), "client_access_mode", null)

_role_to_be(req) := role if {
	role := _proposed_role(req)
} else := object.get(_current(req), "role", null)

# The practice's own books: manage_business and create_expense_claims where the admin does not
# hold them, and a publishing level above its own. A client admin with manage_business holds
# all three.
_permission_excess(req) := {_exceeds(concat("", ["may not grant ", name, ": the admin does not hold it"])) |
	some name in _changed_permissions(req)
	name in _book_permissions
	_proposed_permission(req, name) == true
	not _holds(req.subject, name)
} | {_exceeds(concat("", ["may not grant publishing ", level, ": it is above the admin's own (", own, ")"])) |
	"publishing" in _changed_permissions(req)
	level := _proposed_permission(req, "publishing")
	own := _own_publishing(req.subject)
	_publishing_rank[level] > _publishing_rank[own]
}

_book_permissions := {"manage_business", "create_expense_claims"}

_holds(user, _) if lib.has_permission(user, "manage_business")

_holds(user, "create_expense_claims") if lib.has_permission(user, "create_expense_claims")

_own_publishing(user) := "all" if {
	lib.has_permission(user, "manage_business")
} else := lib.permission(user, "publishing")

_publishing_rank := {"none": 0, "expense_claims_only": 1, "all": 2}

# ---- proposals -------------------------------------------------------------------------------

# user.create names no existing user, so it is never about oneself.
_is_self(req) if {
	req.action != "user.create"
	req.resource.id == req.subject.id
}

# The actions whose attributes propose new values for the target (SPEC §2.4a).
_proposal_action(action) if action in {"user.create", "user.update", "user.client_access.edit"}

# _proposes(req, name) holds when a proposal action carries a value for name. null is no role,
# status or permissions proposed; for the mode it is the role default, for the link no link.
_proposes(req, name) if {
	_proposal_action(req.action)
	_ := req.resource.attributes[name]
	_null_proposes(name)
}

_proposes(req, name) if {
	_proposal_action(req.action)
	req.resource.attributes[name] != null
}

_null_proposes(name) if name in {"client_access_mode", "xpm_staff_id"}

# _proposed_role(req) is the role a proposal carries; undefined when none is proposed, so the
# role rules above do not apply.
_proposed_role(req) := req.resource.attributes.role if {
	_proposes(req, "role")
}

_becomes_expense_approver(req) if req.action == "user.create"

_becomes_expense_approver(req) if req.resource.role != "expense_approver"

# The target as it is now; a user being created has nothing yet (every value its default).
_current(req) := {} if {
	req.action == "user.create"
} else := req.resource

# _changed_fields(req) are the fields a proposal changes: a value equal to the one the target
# already has is not a change.
_changed_fields(req) := {name |
	some name in {"role", "status", "client_access_mode", "xpm_staff_id"}
	_proposes(req, name)
	req.resource.attributes[name] != object.get(_current(req), name, _default_of[name])
} | {"permissions" | count(_changed_permissions(req)) > 0}

_default_of := {"role": null, "status": "active", "client_access_mode": null, "xpm_staff_id": null}

# The permissions a proposal changes; a null permission is its default (off, or none).
_changed_permissions(req) := {name |
	_proposes(req, "permissions")
	some name, _ in req.resource.attributes.permissions
	_proposed_permission(req, name) != lib.permission(_current(req), name)
}

_proposed_permission(req, name) := lib.permission({"permissions": req.resource.attributes.permissions}, name)

# _allocated_client(req) is the client facts for user.client_access.edit's attributes.client_id.
_allocated_client(req) := req.resource.attribute_client if {
	req.action == "user.client_access.edit"
	is_string(req.resource.attributes.client_id)
}
