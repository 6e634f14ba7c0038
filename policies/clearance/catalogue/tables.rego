# The action catalogue's tables (catalogue.rego has its description). Constant tables only
# (policies/README.md, "Tables"): the build evaluates this file once and ships its values as
# data, so a decision does not rebuild them.
package clearance.catalogue.tables

# The resource type each action applies to.
resource_types := {
	# SPEC §2.2 client access; clients exist in practice accounts only.
	"client.view": "client",
	"client.access": "client",
	"client.edit": "client",
	"client.console.view": "client",
	"xbert.assign": "client",
	"task.assign": "client",
	"time.push": "client",
	# SPEC §2.3 account-level actions, on the subject's own account.
	"settings.view": "account",
	"settings.edit": "account",
	"processes.manage": "account",
	"automation.manage": "account",
	"users.list": "account",
	"subscription.manage": "account",
	"client.create": "account",
	"insights.view": "account",
	"expense_claim.create": "account",
	# SPEC §2.4 user management, and §2.4a: setting or clearing a user's practice-manager link.
	"user.view": "user",
	"user.profile.edit": "user",
	"user.create": "user",
	"user.update": "user",
	"user.suspend": "user",
	"user.enable": "user",
	"user.remove": "user",
	"user.client_access.edit": "user",
	"user.xpm_link.edit": "user",
	# SPEC §2.5 items (documents).
	"item.view": "item",
	"item.edit": "item",
	"item.publish": "item",
	"expense_claim.approve": "item",
}

# The actions that exist in practice accounts only: clients, client access modes and the
# practice manager are a practice notion. Every other action exists in both kinds of account.
practice_only := {
	"client.view", "client.access", "client.edit", "client.console.view", "xbert.assign", "task.assign", "time.push",
	"processes.manage", "automation.manage", "client.create", "insights.view",
	"user.client_access.edit", "user.xpm_link.edit",
}

resource_type_names := {"client", "account", "user", "item"}
