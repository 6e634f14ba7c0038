# METADATA
# title: Items (documents)
# description: |
#   SPEC §2.5: viewing, editing, publishing and approving items, and creating
#   expense claims in the account's own books. Items of a client need client
#   access (SPEC §2.2); items of the own books follow the user's role and permissions.
package clearance.items

import data.clearance.clients
import data.clearance.lib

# denials(req) are the deny codes for an item action.
denials(req) := clients.access_denials(req.subject, req.resource.client) | _item_denials(ctx) if {
	_of_client(req.resource)
	ctx := _context(req)
} else := _item_denials(_context(req))

# grants(req) are the rules that grant an item action.
grants(req) := clients.access_grants(req.subject, req.resource.client) | _item_grants(ctx) if {
	_of_client(req.resource)
	ctx := _context(req)
} else := _item_grants(_context(req))

# claim_creation_denials(user, kind) are the deny codes for expense_claim.create in
# the own books of an account of that kind (an account-level action, SPEC §2.3).
claim_creation_denials(user, kind) := {code |
	tier := _tier(user, kind)
	some code in claim_creation_deny_codes
	_creation_denied(code, tier, user)
}

# claim_creation_grants(user, kind) are the rules that let the user create expense claims.
claim_creation_grants(user, kind) := {code |
	tier := _tier(user, kind)
	some code in claim_creation_grant_codes
	_creation_granted(code, tier, user)
}

claim_creation_deny_codes := {"role_not_permitted", "permission_missing"}

claim_creation_grant_codes := _full_tiers | {"create_expense_claims"}

deny_codes := clients.access_deny_codes | _deny_codes

grant_codes := clients.access_grant_codes | _grant_codes

_deny_codes := {"role_not_permitted", "not_owner", "permission_missing", "self_approval", "item_kind_not_supported"}

_grant_codes := _approver_tiers | {"own_item", "publishing_all", "publishing_expense_claims_only"}

# How much of the own books a user may handle:
#   top_admin               - everything (practice_admin, business_admin);
#   manage_financial_data   - everything (business user_admin);
#   manage_business         - everything (practice client_admin or standard with manage_business);
#   expense_approver        - view expense claims and approve them;
#   own                     - own items, as permissions allow (standard; client_admin without manage_business).
# manage_business is a permission of the practice business only; on a business
# account it is ignored.
_tier(user, kind) := "top_admin" if {
	lib.is_top_admin(user)
} else := "manage_financial_data" if {
	user.role == "user_admin"
} else := "manage_business" if {
	kind == "practice"
	user.role in {"client_admin", "standard"}
	lib.has_permission(user, "manage_business")
} else := "expense_approver" if {
	user.role == "expense_approver"
} else := "own"

_full_tiers := {"top_admin", "manage_financial_data", "manage_business"}

# SPEC: top admin, user_admin, expense_approver and practice users with manage_business.
_approver_tiers := _full_tiers | {"expense_approver"}

_context(req) := {
	"action": req.action,
	"user": req.subject,
	"item": req.resource,
	"tier": _tier(req.subject, req.account.kind),
}

_of_client(item) if is_string(item.client_id)

_own_books(item) if not _of_client(item)

_item_denials(ctx) := {code |
	some code in _deny_codes
	_denied(code, ctx)
}

_item_grants(ctx) := {code |
	some code in _grant_codes
	_granted(code, ctx)
}

# Expense approvers may only view expense claims and approve them.
_denied("role_not_permitted", ctx) if {
	ctx.tier == "expense_approver"
	not _approver_may(ctx.action, ctx.item)
}

_denied("role_not_permitted", ctx) if {
	ctx.action == "expense_claim.approve"
	not ctx.tier in _approver_tiers
}

_denied("not_owner", ctx) if {
	_limited_to_own(ctx)
	ctx.item.owner_user_id != ctx.user.id
}

_denied("permission_missing", ctx) if {
	_limited_to_own(ctx)
	ctx.action == "item.publish"
	not _may_publish(lib.permission(ctx.user, "publishing"), ctx.item)
}

# Our addition to the help articles: nobody approves their own claim.
_denied("self_approval", ctx) if {
	ctx.action == "expense_claim.approve"
	ctx.item.owner_user_id == ctx.user.id
}

_denied("item_kind_not_supported", ctx) if {
	ctx.action == "expense_claim.approve"
	ctx.item.kind != "expense_claim"
}

_granted(code, ctx) if {
	code == ctx.tier
	code in _full_tiers
	_own_books(ctx.item)
}

_granted(code, ctx) if {
	code == ctx.tier
	ctx.action == "expense_claim.approve"
	code in _approver_tiers
}

_granted("expense_approver", ctx) if {
	ctx.tier == "expense_approver"
	_approver_may(ctx.action, ctx.item)
}

_granted("own_item", ctx) if {
	_limited_to_own(ctx)
	ctx.item.owner_user_id == ctx.user.id
}

_granted("publishing_all", ctx) if {
	_limited_to_own(ctx)
	ctx.action == "item.publish"
	lib.permission(ctx.user, "publishing") == "all"
}

_granted("publishing_expense_claims_only", ctx) if {
	_limited_to_own(ctx)
	ctx.action == "item.publish"
	lib.permission(ctx.user, "publishing") == "expense_claims_only"
	ctx.item.kind == "expense_claim"
}

# Users of the "own" tier handle their own items of the own books only.
_limited_to_own(ctx) if {
	ctx.tier == "own"
	ctx.action in {"item.view", "item.edit", "item.publish"}
	_own_books(ctx.item)
}

_approver_may("item.view", item) if item.kind == "expense_claim"

_approver_may("expense_claim.approve", _)

_may_publish("all", _)

_may_publish("expense_claims_only", item) if item.kind == "expense_claim"

_creation_denied("role_not_permitted", "expense_approver", _)

_creation_denied("permission_missing", "own", user) if not lib.has_permission(user, "create_expense_claims")

_creation_granted(code, tier, _) if {
	code == tier
	tier in _full_tiers
}

_creation_granted("create_expense_claims", "own", user) if lib.has_permission(user, "create_expense_claims")
