# METADATA
# title: Account-level actions
# description: |
#   SPEC §2.3: settings, processes, automation, the user list, the subscription,
#   adding clients and practice insights, on the subject's own account.
#   expense_claim.create is decided by the items area (SPEC §2.5, own books).
package clearance.accounts

import data.clearance.items
import data.clearance.lib

# Who may do each account action: "admins" (top and sub admins), or "top_admin"
# only; permission names the permission that lets a standard user do it as well.
# An account action missing here is refused by default (no_rule_matched).
_rules := {
	"settings.view": {"who": "admins"},
	"settings.edit": {"who": "admins"},
	"processes.manage": {"who": "admins"},
	"automation.manage": {"who": "admins"},
	"users.list": {"who": "admins"},
	"subscription.manage": {"who": "top_admin"},
	"client.create": {"who": "admins", "permission": "add_clients"},
	"insights.view": {"who": "admins", "permission": "practice_insights"},
}

# denials(req) are the deny codes for an account action.
denials(req) := items.claim_creation_denials(req.subject, req.account.kind) if {
	req.action == "expense_claim.create"
} else := {code |
	rule := _rules[req.action]
	some code in _deny_codes
	_denied(code, rule, req.subject)
}

# grants(req) are the rules that grant an account action.
grants(req) := items.claim_creation_grants(req.subject, req.account.kind) if {
	req.action == "expense_claim.create"
} else := {code |
	rule := _rules[req.action]
	some code in _grant_codes
	_granted(code, rule, req.subject)
}

deny_codes := _deny_codes | items.claim_creation_deny_codes

grant_codes := _grant_codes | items.claim_creation_grant_codes

_deny_codes := {"role_not_permitted", "permission_missing", "subscription_requires_top_admin"}

_grant_codes := {"top_admin", "sub_admin"} | {rule.permission | some rule in _rules}

_denied("subscription_requires_top_admin", rule, user) if {
	rule.who == "top_admin"
	not lib.is_top_admin(user)
}

_denied("role_not_permitted", rule, user) if {
	rule.who == "admins"
	not lib.is_admin(user)
	not _permission_applies(rule, user)
}

_denied("permission_missing", rule, user) if {
	_permission_applies(rule, user)
	not lib.has_permission(user, rule.permission)
}

_granted("top_admin", _, user) if lib.is_top_admin(user)

_granted("sub_admin", rule, user) if {
	rule.who == "admins"
	lib.is_sub_admin(user)
}

# The grant is named after the permission (add_clients, practice_insights).
_granted(code, rule, user) if {
	_permission_applies(rule, user)
	code == rule.permission
	lib.has_permission(user, code)
}

# A permission can stand in for the admin role of standard users only.
_permission_applies(rule, user) if {
	rule.who == "admins"
	is_string(rule.permission)
	user.role == "standard"
}
