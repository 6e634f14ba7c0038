# METADATA
# title: Client access
# description: |
#   SPEC §2.2: who has access to a client of a practice, by role and client access
#   mode, and what time.push needs on top. The access functions are also used for
#   the items of a client (SPEC §2.5).
package clearance.clients

import data.clearance.lib

# denials(req) are the deny codes for a client action; empty when nothing refuses.
denials(req) := access_denials(req.subject, req.resource) | _xpm_denials(req.action, req.subject)

# grants(req) are the rules that grant a client action.
grants(req) := access_grants(req.subject, req.resource) | _xpm_grants(req.action, req.subject)

# Every code this area gives, for the reason table and its tests.
deny_codes := access_deny_codes | {"xpm_link_required"}

grant_codes := access_grant_codes | {"xpm_linked"}

access_deny_codes := {"role_not_permitted", "client_not_allocated", "ledger_access_required"}

access_grant_codes := {"top_admin", "client_access_all", "client_allocated", "ledger_access"}

# access_denials(user, client) say why the user has no access to the client, where
# client carries the facts ledger, allocated and ledger_access (relative to user).
access_denials(user, client) := {code |
	some code in access_deny_codes
	_access_denied(code, user, client)
}

# access_grants(user, client) are the rules that give the user access to the client.
access_grants(user, client) := {code |
	some code in access_grant_codes
	_access_granted(code, user, client)
}

# Client admins and standard users are restricted by their client access mode.
_restricted_roles := {"client_admin", "standard"}

# Practice admins see every client; expense approvers (and business roles) none.
_access_denied("role_not_permitted", user, _) if {
	user.role != "practice_admin"
	not user.role in _restricted_roles
}

_access_denied("client_not_allocated", user, client) if {
	_needs_allocation(user)
	not client.allocated == true
}

_access_denied("ledger_access_required", user, client) if {
	_needs_ledger_access(user, client)
	not client.ledger_access == true
}

_access_granted("top_admin", user, _) if user.role == "practice_admin"

# "all", and "ledger_all" on a client whose ledger is not Xero: the ledger cannot
# tell who has access, so the "All clients" half of the mode applies.
_access_granted("client_access_all", user, client) if {
	user.role in _restricted_roles
	_mode_grants_all(lib.client_access_mode(user), client)
}

_access_granted("client_allocated", user, client) if {
	_needs_allocation(user)
	client.allocated == true
}

_access_granted("ledger_access", user, client) if {
	_needs_ledger_access(user, client)
	client.ledger_access == true
}

_mode_grants_all("all", _)

_mode_grants_all("ledger_all", client) if client.ledger != "xero"

_needs_allocation(user) if {
	user.role in _restricted_roles
	lib.client_access_mode(user) in {"selected", "ledger_selected"}
}

# Ledger access is only known for Xero clients (SPEC §1).
_needs_ledger_access(user, client) if {
	user.role in _restricted_roles
	lib.client_access_mode(user) in {"ledger_all", "ledger_selected"}
	client.ledger == "xero"
}

# time.push also needs a link to a practice-manager staff member.
_xpm_denials(action, user) := {"xpm_link_required" |
	action == "time.push"
	not lib.has_xpm_link(user)
}

_xpm_grants(action, user) := {"xpm_linked" |
	action == "time.push"
	lib.has_xpm_link(user)
}
