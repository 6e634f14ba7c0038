# METADATA
# title: Shared helpers
# description: |
#   Roles, permission defaults and the effective client access mode, shared by
#   every area, and the reason codes every area gives. These helpers are used across
#   packages, so they carry no leading underscore (Regal's leaked-internal-reference
#   would flag one).
package clearance.lib

# Roles per account kind (SPEC §1). Validation refuses a role of the other kind,
# so the helpers below may look at the role name alone.
roles := {
	"practice": {"practice_admin", "client_admin", "standard", "expense_approver"},
	"business": {"business_admin", "user_admin", "standard", "expense_approver"},
}

role_of_kind(role, kind) if role in roles[kind]

known_role(role) if {
	some kind_roles in roles
	role in kind_roles
}

top_admin_role(kind) := {"practice": "practice_admin", "business": "business_admin"}[kind]

is_top_admin(user) if user.role in {"practice_admin", "business_admin"}

is_sub_admin(user) if user.role in {"client_admin", "user_admin"}

is_admin(user) if is_top_admin(user)

is_admin(user) if is_sub_admin(user)

# Client admins and standard users are the roles restricted by a client access mode.
has_client_access_mode(user) if user.role in {"client_admin", "standard"}

client_access_modes := {"all", "selected", "ledger_all", "ledger_selected"}

known_client_access_mode(mode) if mode in client_access_modes

# Permissions are all optional; a missing one is off (SPEC §1).
permission_defaults := {
	"add_clients": false,
	"practice_insights": false,
	"manage_business": false,
	"create_expense_claims": false,
	"publishing": "none",
}

permission_default(name) := permission_defaults[name]

# permission(user, name) is the user's value for a permission, or its default.
permission(user, name) := user.permissions[name] if {
	is_object(user.permissions)
	user.permissions[name] != null
} else := permission_default(name)

# has_permission(user, name) holds when a boolean permission is switched on.
has_permission(user, name) if permission(user, name) == true

# client_access_mode(user) is the user's mode, or the role default when unset:
# all for client_admin, selected for standard (SPEC §1). Roles without clients
# (top admins have every client, the others none) get "none".
client_access_mode(user) := user.client_access_mode if {
	has_client_access_mode(user)
	known_client_access_mode(user.client_access_mode)
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

# The proposed values a user resource may carry (SPEC §2.4a): the only resource attributes the
# rules read, validated on user resources and kept by the decision log (clearance.log.mask), so
# a logged decision can be replayed. Other resource types keep free-form attributes.
resource_attributes := {"role", "client_access_mode", "permissions", "status", "xpm_staff_id", "client_id"}

# The messages of the reason codes every area gives; each area keeps the messages of its own
# codes beside them.
messages := {
	"role_not_permitted": "the user's role does not allow this",
	"permission_missing": "the user does not have the permission this needs",
	"top_admin": "the user is the account's top admin",
	"sub_admin": "the user is a sub admin of the account",
}
