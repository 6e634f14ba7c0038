# METADATA
# title: User management
# description: |
#   SPEC §2.4: who may view, create, change, suspend, enable and remove users and
#   edit their client access, and which roles may be proposed. The resource is the
#   target user; attributes carry proposed values (role, client_id).
package clearance.users

import data.clearance.lib

# denials(req) are the deny codes for a user action.
denials(req) := {code |
	ctx := _context(req)
	some code in deny_codes
	_denied(code, ctx)
}

# grants(req) are the rules that grant a user action.
grants(req) := {code |
	ctx := _context(req)
	some code in grant_codes
	_granted(code, ctx)
}

deny_codes := {
	"role_not_permitted", "admin_target_protected", "invalid_role", "role_phased_out",
	"self_action_not_allowed", "ledger_access_required", "client_not_found", "tenant_mismatch",
}

grant_codes := {"self_service", "top_admin", "sub_admin"}

# Everyone may look at and edit their own profile.
_self_service_actions := {"user.view", "user.profile.edit"}

# Our choice: nobody suspends, removes or edits the client access of themselves,
# or changes their own role, so an account cannot lock itself out by accident and
# a sub admin cannot lift restrictions set for them.
_not_on_self := {"user.suspend", "user.remove", "user.client_access.edit"}

# Actions whose attributes.role is a proposed role.
_role_actions := {"user.create", "user.update"}

_context(req) := {
	"action": req.action,
	"user": req.subject,
	"target": req.resource,
	"kind": req.account.kind,
	"attributes": object.get(req.resource, "attributes", {}),
}

_denied("role_not_permitted", ctx) if {
	not _self_service(ctx)
	not lib.is_admin(ctx.user)
}

# A sub admin may not act on a top admin, nor make anyone a top admin. Viewing is not acting:
# sub admins list every user (users.list), so they may open a top admin's profile too; the
# help article restricts only creating, updating, suspending, enabling and removing them.
_denied("admin_target_protected", ctx) if {
	lib.is_sub_admin(ctx.user)
	not ctx.action in _sub_admin_may_on_top_admin
	ctx.target.role == lib.top_admin_role[ctx.kind]
}

_sub_admin_may_on_top_admin := {"user.create", "user.view"}

_denied("admin_target_protected", ctx) if {
	lib.is_sub_admin(ctx.user)
	_proposed_role(ctx) == lib.top_admin_role[ctx.kind]
}

# expense_approver exists in both kinds, so it is never an invalid_role, only role_phased_out.
_denied("invalid_role", ctx) if {
	role := _proposed_role(ctx)
	not role in lib.roles[ctx.kind]
}

# Nobody may be created as, or changed into, an expense approver; existing ones keep it.
_denied("role_phased_out", ctx) if {
	_proposed_role(ctx) == "expense_approver"
	_becomes_expense_approver(ctx)
}

_denied("self_action_not_allowed", ctx) if {
	_is_self(ctx)
	ctx.action in _not_on_self
}

_denied("self_action_not_allowed", ctx) if {
	_is_self(ctx)
	_proposed_role(ctx) != ctx.target.role
}

# The client being allocated is greyed out: the target needs Xero access to it first.
_denied("ledger_access_required", ctx) if {
	client := _allocated_client(ctx)
	client.found == true
	client.ledger == "xero"
	lib.client_access_mode(ctx.target) == "ledger_selected"
	not client.ledger_access == true
}

_denied("client_not_found", ctx) if _allocated_client(ctx).found == false

_denied("tenant_mismatch", ctx) if {
	client := _allocated_client(ctx)
	client.found == true
	client.account_id != ctx.user.account_id
}

_granted("self_service", ctx) if _self_service(ctx)

_granted("top_admin", ctx) if lib.is_top_admin(ctx.user)

_granted("sub_admin", ctx) if lib.is_sub_admin(ctx.user)

_self_service(ctx) if {
	_is_self(ctx)
	ctx.action in _self_service_actions
}

# user.create names no existing user, so it is never about oneself.
_is_self(ctx) if {
	ctx.action != "user.create"
	ctx.target.id == ctx.user.id
}

# _proposed_role(ctx) is the role a create or update proposes; undefined when none
# is proposed, so the role rules above do not apply.
_proposed_role(ctx) := ctx.attributes.role if {
	ctx.action in _role_actions
	is_string(ctx.attributes.role)
}

_becomes_expense_approver(ctx) if ctx.action == "user.create"

_becomes_expense_approver(ctx) if ctx.target.role != "expense_approver"

# _allocated_client(ctx) is the client facts for user.client_access.edit's attributes.client_id.
_allocated_client(ctx) := ctx.target.attribute_client if {
	ctx.action == "user.client_access.edit"
	is_string(ctx.attributes.client_id)
}
