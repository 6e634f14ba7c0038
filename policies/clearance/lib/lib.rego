# METADATA
# title: Shared helpers
# description: |
#   Roles, permission defaults (their tables are in tables.rego) and the effective
#   client access mode, shared by every area, and the reason codes every area gives.
#   These helpers are used across packages, so they carry no leading underscore
#   (Regal's leaked-internal-reference would flag one).
package clearance.lib

import data.clearance.lib.tables

role_of_kind(role, kind) if role in tables.roles[kind]

known_role(role) if {
	some kind_roles in tables.roles
	role in kind_roles
}

top_admin_role(kind) := {"practice": "practice_admin", "business": "business_admin"}[kind]

is_top_admin(user) if user.role in {"practice_admin", "business_admin"}

is_sub_admin(user) if user.role in {"client_admin", "user_admin"}

is_admin(user) if is_top_admin(user)

is_admin(user) if is_sub_admin(user)

# Client admins and standard users are the roles restricted by a client access mode.
has_client_access_mode(user) if user.role in {"client_admin", "standard"}

known_client_access_mode(mode) if mode in tables.client_access_modes

permission_default(name) := tables.permission_defaults[name]

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

# The messages of the reason codes every area gives; each area keeps the messages of its own
# codes beside them.
messages := {
	"role_not_permitted": "the user's role does not allow this",
	"permission_missing": "the user does not have the permission this needs",
	"top_admin": "the user is the account's top admin",
	"sub_admin": "the user is a sub admin of the account",
}
