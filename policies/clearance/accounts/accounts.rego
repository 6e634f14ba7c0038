# METADATA
# title: Account-level actions
# description: |
#   SPEC §2.3: settings, processes, automation, the user list, the subscription,
#   adding clients and practice insights, on the subject's own account.
#   expense_claim.create is decided by the items area (SPEC §2.5, own books).
package clearance.accounts

import data.clearance.items
import data.clearance.lib

# Who may do each account action: "admins" (top and sub admins), or "top_admin" only.
# An account action missing here is refused by default (no_rule_matched).
_who := {
	"settings.view": "admins",
	"settings.edit": "admins",
	"processes.manage": "admins",
	"automation.manage": "admins",
	"users.list": "admins",
	"subscription.manage": "top_admin",
	"client.create": "admins",
	"insights.view": "admins",
}

# The permission that lets a standard user do an admin action as well.
_permission := {"client.create": "add_clients", "insights.view": "practice_insights"}

# denials(req) are the deny codes for an account action.
denials(req) := items.claim_creation_denials(req.subject, req.account.kind) if {
	req.action == "expense_claim.create"
} else := _denials(who, req.action, req.subject) if {
	who := _who[req.action]
} else := set()

# grants(req) are the rules that grant an account action.
grants(req) := items.claim_creation_grants(req.subject, req.account.kind) if {
	req.action == "expense_claim.create"
} else := _grants(who, req.action, req.subject) if {
	who := _who[req.action]
} else := set()

deny_codes := union({
	{"role_not_permitted", "permission_missing", "subscription_requires_top_admin"},
	items.claim_creation_deny_codes,
})

grant_codes := {"top_admin", "sub_admin", "add_clients", "practice_insights"} | items.claim_creation_grant_codes

# The messages of this area's own codes (role_not_permitted and the like: lib.messages).
messages := {
	"subscription_requires_top_admin": "only the account's top admin may manage the subscription",
	"add_clients": "the user has the add clients permission",
	"practice_insights": "the user has the practice insights permission",
}

_denials("top_admin", _, user) := {"subscription_requires_top_admin" | not lib.is_top_admin(user)}

_denials("admins", action, user) := {"permission_missing" | not lib.has_permission(user, permission)} if {
	permission := _standing_in(action, user)
} else := {"role_not_permitted" | not lib.is_admin(user)}

_grants("top_admin", _, user) := {"top_admin" | lib.is_top_admin(user)}

# The grant is named after the permission (add_clients, practice_insights).
_grants("admins", action, user) := {permission | lib.has_permission(user, permission)} if {
	permission := _standing_in(action, user)
} else := {"top_admin" | lib.is_top_admin(user)} | {"sub_admin" | lib.is_sub_admin(user)}

# _standing_in(action, user) is the permission that can stand in for the admin role:
# for standard users only.
_standing_in(action, user) := _permission[action] if user.role == "standard"
