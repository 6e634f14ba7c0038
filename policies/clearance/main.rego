# METADATA
# title: Clearance decisions
# description: |
#   May this user do this action on this thing? decide(req) answers one request with
#   {"allow", "reasons"}: input checks first, then the "always first" rules of SPEC §2.1,
#   then the rules of the resource's area. Deny is the default; an allow carries the
#   rules that granted it. The entrypoints apply decide to input.
package clearance

import data.clearance.accounts
import data.clearance.catalogue
import data.clearance.clients
import data.clearance.items
import data.clearance.users
import data.clearance.validation

# METADATA
# title: One decision
# description: The decision for input, a single request; a deny when input is missing.
# entrypoint: true
# scope: document
default decision := {"allow": false, "reasons": [{"code": "invalid_input", "message": "input is missing"}]}

decision := decide(input)

# METADATA
# title: Decisions for a list of resources
# description: |
#   For input {"action", "subject", "account", "resources": [...]}, the decision for
#   each resource, in order, exactly as decision gives it for that one resource;
#   empty when resources is not an array.
# entrypoint: true
decisions := [decide(request) |
	is_array(input.resources)
	some resource in input.resources
	request := object.union(object.filter(input, {"action", "subject", "account"}), {"resource": resource})
]

# decide(req) is the decision for one request; it is defined for every req.
decide(req) := _result(false, _invalid_reasons(problems)) if {
	problems := validation.problems(req)
	count(problems) > 0
} else := _denied(codes) if {
	codes := _stage_one(req)
	count(codes) > 0
} else := _denied(codes) if {
	codes := _area_denials(req.resource.type, req)
	count(codes) > 0
} else := _result(true, _reasons(codes)) if {
	codes := _area_grants(req.resource.type, req)
	count(codes) > 0
} else := _denied({"no_rule_matched"})

_result(allow, reasons) := {"allow": allow, "reasons": reasons}

_denied(codes) := _result(false, _reasons(codes))

# Reasons are sorted by code: sort makes the order the same in OPA and in WebAssembly.
_reasons(codes) := sort({{"code": code, "message": object.get(messages, code, code)} | some code in codes})

_invalid_reasons(problems) := sort({{"code": "invalid_input", "message": problem} | some problem in problems})

# SPEC §2.1 "always first": when any of these applies, all that apply are listed and
# no area rule is looked at. Refused here too, as our addition: a resource of the wrong
# type for the action, and an action that does not exist in the subject's kind of account
# (role and permission rules say nothing useful about an action the account does not have).
_stage_one(req) := {code |
	some code in _stage_one_codes
	_stage_one_applies(code, req)
}

_stage_one_codes := {
	"unknown_subject", "resource_not_found", "unknown_action",
	"user_suspended", "tenant_mismatch", "resource_type_mismatch", "account_kind_not_supported",
}

_stage_one_applies("unknown_subject", req) if req.subject.found == false

# user.create names no existing user: there is nothing to find.
_stage_one_applies("resource_not_found", req) if {
	req.action != "user.create"
	req.resource.found == false
}

_stage_one_applies("unknown_action", req) if not catalogue.actions[req.action]

_stage_one_applies("user_suspended", req) if req.subject.status == "suspended"

# For user.create the target account is the subject's own, so it cannot mismatch.
_stage_one_applies("tenant_mismatch", req) if {
	req.subject.found == true
	req.action != "user.create"
	req.resource.found == true
	req.resource.account_id != req.subject.account_id
}

_stage_one_applies("resource_type_mismatch", req) if {
	catalogue.actions[req.action].resource_type != req.resource.type
}

_stage_one_applies("account_kind_not_supported", req) if {
	req.subject.found == true
	kinds := catalogue.actions[req.action].account_kinds
	not req.account.kind in kinds
}

# Area rules, by resource type.
_area_denials("client", req) := clients.denials(req)

_area_denials("account", req) := accounts.denials(req)

_area_denials("user", req) := users.denials(req)

_area_denials("item", req) := items.denials(req)

_area_grants("client", req) := clients.grants(req)

_area_grants("account", req) := accounts.grants(req)

_area_grants("user", req) := users.grants(req)

_area_grants("item", req) := items.grants(req)

# A message for every code, deny and grant alike (README, "Reason codes").
messages := {
	# Input and "always first" (SPEC §2.1).
	"invalid_input": "the request is malformed",
	"unknown_subject": "the subject is not a known user",
	"resource_not_found": "the resource does not exist",
	"unknown_action": "the action is not in the catalogue",
	"user_suspended": "the user is suspended",
	"tenant_mismatch": "the resource belongs to another account",
	"resource_type_mismatch": "the action does not apply to this type of resource",
	# Denials of the areas.
	"account_kind_not_supported": "the action does not exist for this kind of account",
	"role_not_permitted": "the user's role does not allow this",
	"permission_missing": "the user does not have the permission this needs",
	"subscription_requires_top_admin": "only the account's top admin may manage the subscription",
	"client_not_allocated": "the client is not allocated to the user",
	"ledger_access_required": "needs ledger access to this client in Xero first",
	"xpm_link_required": "the user must be linked to a Xero Practice Manager staff member first",
	"admin_target_protected": "a sub admin may not manage a top admin or grant the top admin role",
	"invalid_role": "the proposed role does not exist for this kind of account",
	"role_phased_out": "the expense approver role is being phased out and cannot be newly given",
	"self_action_not_allowed": "users may not suspend or remove themselves, nor change their own role or client access",
	"client_not_found": "the client to allocate does not exist",
	"not_owner": "the item belongs to another user",
	"self_approval": "users may not approve their own expense claims",
	"item_kind_not_supported": "only expense claims can be approved",
	"no_rule_matched": "no rule allows this action",
	# Grants.
	"top_admin": "the user is the account's top admin",
	"sub_admin": "the user is a sub admin of the account",
	"client_access_all": "the user may access all clients",
	"client_allocated": "the client is allocated to the user",
	"ledger_access": "the user has access to this client in Xero",
	"xpm_linked": "the user is linked to a Xero Practice Manager staff member",
	"add_clients": "the user has the add clients permission",
	"practice_insights": "the user has the practice insights permission",
	"self_service": "users may view and edit their own profile",
	"manage_financial_data": "user admins manage all financial data of the business",
	"manage_business": "the user may manage colleagues' documents in the practice business",
	"own_item": "the item belongs to the user",
	"publishing_all": "the user may publish all items",
	"publishing_expense_claims_only": "the user may publish expense claims",
	"create_expense_claims": "the user may create expense claims",
	"expense_approver": "expense approvers may view and approve expense claims",
}
