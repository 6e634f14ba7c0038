# The shared tables of lib.rego: roles, client access modes, permission defaults and the
# proposed values a user resource may carry. Constant tables only (policies/README.md,
# "Tables"): the build evaluates this file once and ships its values as data, so a decision
# does not rebuild them.
package clearance.lib.tables

# Roles per account kind (SPEC §1). Validation refuses a role of the other kind,
# so the helpers below may look at the role name alone.
roles := {
	"practice": {"practice_admin", "client_admin", "standard", "expense_approver"},
	"business": {"business_admin", "user_admin", "standard", "expense_approver"},
}

client_access_modes := {"all", "selected", "ledger_all", "ledger_selected"}

# Permissions are all optional; a missing one is off (SPEC §1).
permission_defaults := {
	"add_clients": false,
	"practice_insights": false,
	"manage_business": false,
	"create_expense_claims": false,
	"publishing": "none",
}

# The proposed values a user resource may carry (SPEC §2.4a): the only resource attributes the
# rules read, validated on user resources and kept by the decision log (clearance.log.mask), so
# a logged decision can be replayed. Other resource types keep free-form attributes.
resource_attributes := {"role", "client_access_mode", "permissions", "status", "xpm_staff_id", "client_id"}
