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
denials(req) := _client_denials(req.subject, req.resource) | _item_denials(
	req.action, req.subject, req.resource,
	_tier(req.subject, req.account.kind),
)

# grants(req) are the rules that grant an item action.
grants(req) := _client_grants(req.subject, req.resource) | _item_grants(
	req.action, req.subject, req.resource,
	_tier(req.subject, req.account.kind),
)

# claim_creation_denials(user, kind) are the deny codes for expense_claim.create in
# the own books of an account of that kind (an account-level action, SPEC §2.3).
claim_creation_denials(user, kind) := _creation_denials(_tier(user, kind), user)

# claim_creation_grants(user, kind) are the rules that let the user create expense claims.
claim_creation_grants(user, kind) := _creation_grants(_tier(user, kind), user)

claim_creation_deny_codes := {"role_not_permitted", "permission_missing"}

claim_creation_grant_codes := {"top_admin", "manage_financial_data", "manage_business", "create_expense_claims"}

deny_codes := clients.deny_codes | {
	"role_not_permitted", "not_owner", "permission_missing", "self_approval", "item_kind_not_supported",
}

grant_codes := clients.grant_codes | {
	"top_admin", "manage_financial_data", "manage_business", "expense_approver",
	"own_item", "publishing_all", "publishing_expense_claims_only",
}

# The messages of this area's own codes (role_not_permitted and the like: lib.messages; the
# codes of client items: clients.messages).
messages := {
	"not_owner": "the item belongs to another user",
	"self_approval": "users may not approve their own expense claims",
	"item_kind_not_supported": "only expense claims can be approved",
	"manage_financial_data": "user admins manage all financial data of the business",
	"manage_business": "the user may manage colleagues' documents in the practice business",
	"own_item": "the item belongs to the user",
	"publishing_all": "the user may publish all items",
	"publishing_expense_claims_only": "the user may publish expense claims",
	"create_expense_claims": "the user may create expense claims",
	"expense_approver": "expense approvers may view and approve expense claims",
}

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
	_may_manage_business(user)
	lib.has_permission(user, "manage_business")
} else := "expense_approver" if {
	user.role == "expense_approver"
} else := "own"

_may_manage_business(user) if user.role in {"client_admin", "standard"}

_full_tier(tier) if tier in {"top_admin", "manage_financial_data", "manage_business"}

# SPEC: top admin, user_admin, expense_approver and practice users with manage_business.
_approver_tier(tier) if _full_tier(tier)

_approver_tier("expense_approver")

_of_client(item) if is_string(item.client_id)

_own_books(item) if not _of_client(item)

# Items of a client need access to that client (SPEC §2.2).
_client_denials(user, item) := clients.access_denials(clients.access(user), item.client) if {
	_of_client(item)
} else := set()

_client_grants(user, item) := clients.access_grants(clients.access(user), item.client) if {
	_of_client(item)
} else := set()

# Approving: only by an approver, never one's own claim (our addition to the help
# articles), and only expense claims. Expense approvers may otherwise only view
# expense claims; users of the "own" tier handle their own items of the own books.
_item_denials(action, user, item, tier) := union({
	{"role_not_permitted" | not _approver_tier(tier)},
	{"self_approval" | item.owner_user_id == user.id},
	{"item_kind_not_supported" | item.kind != "expense_claim"},
}) if {
	action == "expense_claim.approve"
} else := {"role_not_permitted" | not _approver_may(action, item)} if {
	tier == "expense_approver"
} else := _own_denials(action, user, item) if {
	tier == "own"
	_limited_to_own(action, item)
} else := set()

_item_grants(action, user, item, tier) := {tier | _approver_tier(tier)} if {
	action == "expense_claim.approve"
} else := {tier | _own_books(item)} if {
	_full_tier(tier)
} else := {"expense_approver" | _approver_may(action, item)} if {
	tier == "expense_approver"
} else := _own_grants(action, user, item) if {
	tier == "own"
	_limited_to_own(action, item)
} else := set()

_own_denials(action, user, item) := {"not_owner" | item.owner_user_id != user.id} | {"permission_missing" |
	action == "item.publish"
	not _may_publish(lib.permission(user, "publishing"), item)
}

_own_grants(action, user, item) := union({
	{"own_item" | item.owner_user_id == user.id},
	{"publishing_all" |
		action == "item.publish"
		lib.permission(user, "publishing") == "all"
	},
	{"publishing_expense_claims_only" |
		action == "item.publish"
		lib.permission(user, "publishing") == "expense_claims_only"
		item.kind == "expense_claim"
	},
})

# Users of the "own" tier handle their own items of the own books only.
_limited_to_own(action, item) if {
	_own_item_action(action)
	_own_books(item)
}

_own_item_action(action) if action in {"item.view", "item.edit", "item.publish"}

# Besides approving (decided on its own above), expense approvers may view expense claims.
_approver_may("item.view", item) if item.kind == "expense_claim"

_may_publish("all", _)

_may_publish("expense_claims_only", item) if item.kind == "expense_claim"

_creation_denials(tier, user) := {"role_not_permitted"} if {
	tier == "expense_approver"
} else := {"permission_missing" | not lib.has_permission(user, "create_expense_claims")} if {
	tier == "own"
} else := set()

_creation_grants(tier, user) := {tier} if {
	_full_tier(tier)
} else := {"create_expense_claims" | lib.has_permission(user, "create_expense_claims")} if {
	tier == "own"
} else := set()
