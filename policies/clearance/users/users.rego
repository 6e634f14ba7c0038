# METADATA
# title: User management
# description: |
#   SPEC §2.4: who may view, create, change, suspend, enable and remove users and
#   edit their client access, and which roles may be proposed. The resource is the
#   target user; attributes carry proposed values (role, client_id).
package clearance.users

import data.clearance.lib

# denials(req) are the deny codes for a user action.
denials(req) := union({
	{"role_not_permitted" |
		not _self_service(req)
		not lib.is_admin(req.subject)
	},
	_protection_denials(req),
	_proposal_denials(req),
	_self_denials(req),
	_allocation_denials(req),
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
}

grant_codes := {"self_service", "top_admin", "sub_admin"}

# Everyone may look at and edit their own profile.
_self_service(req) if {
	_is_self(req)
	_self_service_action(req.action)
}

_self_service_action("user.view")

_self_service_action("user.profile.edit")

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

_sub_admin_may_on_top_admin("user.create")

_sub_admin_may_on_top_admin("user.view")

# expense_approver exists in both kinds, so it is never an invalid_role, only role_phased_out.
# Nobody may be created as, or changed into, an expense approver; existing ones keep it.
_proposal_denials(req) := {"invalid_role" |
	role := _proposed_role(req)
	not lib.role_of_kind(role, req.account.kind)
} | {"role_phased_out" |
	_proposed_role(req) == "expense_approver"
	_becomes_expense_approver(req)
}

# Our choice: nobody suspends, removes or edits the client access of themselves,
# or changes their own role, so an account cannot lock itself out by accident and
# a sub admin cannot lift restrictions set for them.
_self_denials(req) := {"self_action_not_allowed" |
	_is_self(req)
	_not_on_self(req.action)
} | {"self_action_not_allowed" |
	_is_self(req)
	_proposed_role(req) != req.resource.role
}

_not_on_self("user.suspend")

_not_on_self("user.remove")

_not_on_self("user.client_access.edit")

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

# user.create names no existing user, so it is never about oneself.
_is_self(req) if {
	req.action != "user.create"
	req.resource.id == req.subject.id
}

# _proposed_role(req) is the role a create or update proposes; undefined when none
# is proposed, so the role rules above do not apply.
_proposed_role(req) := req.resource.attributes.role if {
	_role_action(req.action)
	is_string(req.resource.attributes.role)
}

_role_action("user.create")

_role_action("user.update")

_becomes_expense_approver(req) if req.action == "user.create"

_becomes_expense_approver(req) if req.resource.role != "expense_approver"

# _allocated_client(req) is the client facts for user.client_access.edit's attributes.client_id.
_allocated_client(req) := req.resource.attribute_client if {
	req.action == "user.client_access.edit"
	is_string(req.resource.attributes.client_id)
}
