# METADATA
# title: Shared helpers
# description: |
#   Roles, permission defaults and the effective client access mode, shared by
#   every area. These helpers are used across packages, so they carry no leading
#   underscore (Regal's leaked-internal-reference would flag one).
#   Constant sets and tables are written as function clauses: in WebAssembly a set or
#   object literal is built anew on every evaluation, while a clause is one comparison.
package clearance.lib

# Roles per account kind (SPEC §1). Validation refuses a role of the other kind,
# so the helpers below may look at the role name alone.
role_of_kind(role, "practice") if _practice_role(role)

role_of_kind(role, "business") if _business_role(role)

_practice_role("practice_admin")

_practice_role("client_admin")

_practice_role("standard")

_practice_role("expense_approver")

_business_role("business_admin")

_business_role("user_admin")

_business_role("standard")

_business_role("expense_approver")

known_role(role) if role_of_kind(role, "practice")

known_role(role) if role_of_kind(role, "business")

top_admin_role("practice") := "practice_admin"

top_admin_role("business") := "business_admin"

is_top_admin(user) if user.role == "practice_admin"

is_top_admin(user) if user.role == "business_admin"

is_sub_admin(user) if user.role == "client_admin"

is_sub_admin(user) if user.role == "user_admin"

is_admin(user) if is_top_admin(user)

is_admin(user) if is_sub_admin(user)

# Client admins and standard users are the roles restricted by a client access mode.
has_client_access_mode(user) if user.role == "client_admin"

has_client_access_mode(user) if user.role == "standard"

known_client_access_mode("all")

known_client_access_mode("selected")

known_client_access_mode("ledger_all")

known_client_access_mode("ledger_selected")

# Permissions are all optional; a missing one is off (SPEC §1).
permission_default("add_clients") := false

permission_default("practice_insights") := false

permission_default("manage_business") := false

permission_default("create_expense_claims") := false

permission_default("publishing") := "none"

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
