# METADATA
# title: Action catalogue
# description: |
#   Every action Clearance knows, the resource type it applies to and the account
#   kinds it exists in. This is the only list of actions: the service asks the policy,
#   so adding an action touches policy files only (this table and the area's rules).
package clearance.catalogue

_practice := {"practice"}

_every_kind := {"practice", "business"}

actions := {
	# SPEC §2.2 client access; clients exist in practice accounts only.
	"client.view": {"resource_type": "client", "account_kinds": _practice},
	"client.access": {"resource_type": "client", "account_kinds": _practice},
	"client.edit": {"resource_type": "client", "account_kinds": _practice},
	"client.console.view": {"resource_type": "client", "account_kinds": _practice},
	"xbert.assign": {"resource_type": "client", "account_kinds": _practice},
	"task.assign": {"resource_type": "client", "account_kinds": _practice},
	"time.push": {"resource_type": "client", "account_kinds": _practice},
	# SPEC §2.3 account-level actions, on the subject's own account.
	"settings.view": {"resource_type": "account", "account_kinds": _every_kind},
	"settings.edit": {"resource_type": "account", "account_kinds": _every_kind},
	"processes.manage": {"resource_type": "account", "account_kinds": _practice},
	"automation.manage": {"resource_type": "account", "account_kinds": _practice},
	"users.list": {"resource_type": "account", "account_kinds": _every_kind},
	"subscription.manage": {"resource_type": "account", "account_kinds": _every_kind},
	"client.create": {"resource_type": "account", "account_kinds": _practice},
	"insights.view": {"resource_type": "account", "account_kinds": _practice},
	"expense_claim.create": {"resource_type": "account", "account_kinds": _every_kind},
	# SPEC §2.4 user management.
	"user.view": {"resource_type": "user", "account_kinds": _every_kind},
	"user.profile.edit": {"resource_type": "user", "account_kinds": _every_kind},
	"user.create": {"resource_type": "user", "account_kinds": _every_kind},
	"user.update": {"resource_type": "user", "account_kinds": _every_kind},
	"user.suspend": {"resource_type": "user", "account_kinds": _every_kind},
	"user.enable": {"resource_type": "user", "account_kinds": _every_kind},
	"user.remove": {"resource_type": "user", "account_kinds": _every_kind},
	"user.client_access.edit": {"resource_type": "user", "account_kinds": _practice},
	# SPEC §2.5 items (documents).
	"item.view": {"resource_type": "item", "account_kinds": _every_kind},
	"item.edit": {"resource_type": "item", "account_kinds": _every_kind},
	"item.publish": {"resource_type": "item", "account_kinds": _every_kind},
	"expense_claim.approve": {"resource_type": "item", "account_kinds": _every_kind},
}

resource_types := {"client", "account", "user", "item"}
