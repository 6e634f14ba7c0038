# METADATA
# title: Client access
# description: |
#   SPEC §2.2: who has access to a client of a practice, by role and client access
#   mode, and what time.push needs on top. The access functions take the client's
#   facts as values, so a list of clients is decided without building a resource
#   per client; they are also used for the items of a client (SPEC §2.5).
package clearance.clients

import data.clearance.lib

# denials(req) are the deny codes for a client action; empty when nothing refuses.
denials(req) := access_denials(req.subject, client.ledger, client.allocated, client.ledger_access) | action_denials(req) if {
	client := req.resource
}

# grants(req) are the rules that grant a client action.
grants(req) := access_grants(req.subject, client.ledger, client.allocated, client.ledger_access) | action_grants(req) if {
	client := req.resource
}

# Every code this area gives, for the reason table and its tests.
deny_codes := {"role_not_permitted", "client_not_allocated", "ledger_access_required", "xpm_link_required"}

grant_codes := {"top_admin", "client_access_all", "client_allocated", "ledger_access", "xpm_linked"}

# access_denials(user, ledger, allocated, ledger_access) say why the user has no access to a
# client with those facts (allocated and ledger_access are relative to the user).
# Practice admins see every client; expense approvers (and business roles) none.
access_denials(user, ledger, allocated, ledger_access) := _mode_denials(
	lib.client_access_mode(user),
	ledger, allocated, ledger_access,
) if {
	lib.has_client_access_mode(user)
} else := set() if {
	user.role == "practice_admin"
} else := {"role_not_permitted"}

# access_grants(user, ledger, allocated, ledger_access) are the rules that give the user
# access to a client with those facts.
access_grants(user, ledger, allocated, ledger_access) := _mode_grants(
	lib.client_access_mode(user),
	ledger, allocated, ledger_access,
) if {
	lib.has_client_access_mode(user)
} else := {"top_admin"} if {
	user.role == "practice_admin"
} else := set()

# Client admins and standard users are restricted by their client access mode.
_mode_denials("all", _, _, _) := set()

_mode_denials("selected", _, allocated, _) := _allocation_denials(allocated)

_mode_denials("ledger_all", ledger, _, ledger_access) := _ledger_denials(ledger, ledger_access)

_mode_denials("ledger_selected", ledger, allocated, ledger_access) := _allocation_denials(allocated) | _ledger_denials(
	ledger,
	ledger_access,
)

# "all", and "ledger_all" on a client whose ledger is not Xero: the ledger cannot
# tell who has access, so the "All clients" half of the mode applies.
_mode_grants("all", _, _, _) := {"client_access_all"}

_mode_grants("selected", _, allocated, _) := _allocation_grants(allocated)

_mode_grants("ledger_all", ledger, _, ledger_access) := _ledger_grants(ledger, ledger_access) | {"client_access_all" |
	ledger != "xero"
}

_mode_grants("ledger_selected", ledger, allocated, ledger_access) := _allocation_grants(allocated) | _ledger_grants(
	ledger,
	ledger_access,
)

_allocation_denials(allocated) := {"client_not_allocated" | allocated != true}

_allocation_grants(allocated) := {"client_allocated" | allocated == true}

# Ledger access is only known for Xero clients (SPEC §1).
_ledger_denials(ledger, ledger_access) := {"ledger_access_required" |
	ledger == "xero"
	ledger_access != true
}

_ledger_grants(ledger, ledger_access) := {"ledger_access" |
	ledger == "xero"
	ledger_access == true
}

# action_denials(req) and action_grants(req) depend on the action and the subject only, so
# a list of clients works them out once: time.push also needs a link to a practice-manager
# staff member.
action_denials(req) := {"xpm_link_required" |
	req.action == "time.push"
	not lib.has_xpm_link(req.subject)
}

action_grants(req) := {"xpm_linked" |
	req.action == "time.push"
	lib.has_xpm_link(req.subject)
}
