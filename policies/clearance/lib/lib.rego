# METADATA
# title: Shared helpers
# description: |
#   Role sets, permission defaults and the effective client access mode, shared by
#   every area. These helpers are used across packages, so they carry no leading
#   underscore (Regal's leaked-internal-reference would flag one).
package clearance.lib

# Roles per account kind (SPEC §1). Validation refuses a role of the other kind,
# so the helpers below may look at the role name alone.
roles := {
	"practice": {"practice_admin", "client_admin", "standard", "expense_approver"},
	"business": {"business_admin", "user_admin", "standard", "expense_approver"},
}

top_admin_role := {"practice": "practice_admin", "business": "business_admin"}

top_admin_roles := {"practice_admin", "business_admin"}

sub_admin_roles := {"client_admin", "user_admin"}

admin_roles := top_admin_roles | sub_admin_roles

client_access_modes := {"all", "selected", "ledger_all", "ledger_selected"}

# Permissions are all optional; a missing one is off (SPEC §1).
permission_defaults := {
	"add_clients": false,
	"practice_insights": false,
	"manage_business": false,
	"create_expense_claims": false,
	"publishing": "none",
}

is_top_admin(user) if user.role in top_admin_roles

is_sub_admin(user) if user.role in sub_admin_roles

is_admin(user) if user.role in admin_roles

# permission(user, name) is the user's value for a permission, or its default.
permission(user, name) := user.permissions[name] if {
	is_object(user.permissions)
	user.permissions[name] != null
} else := permission_defaults[name]

# has_permission(user, name) holds when a boolean permission is switched on.
has_permission(user, name) if permission(user, name) == true

# client_access_mode(user) is the user's mode, or the role default when unset:
# all for client_admin, selected for standard (SPEC §1). Roles without clients
# (top admins have every client, the others none) get "none".
client_access_mode(user) := user.client_access_mode if {
	user.role in {"client_admin", "standard"}
	user.client_access_mode in client_access_modes
} else := "all" if {
	user.role == "client_admin"
} else := "selected" if {
	user.role == "standard"
} else := "none"

# has_xpm_link(user) holds when the user is linked to a practice-manager staff member.
has_xpm_link(user) if {
	is_string(user.xpm_staff_id)
	user.xpm_staff_id != ""
}
