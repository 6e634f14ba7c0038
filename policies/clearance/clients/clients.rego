# METADATA
# title: Client access
# description: |
#   SPEC §2.2: who has access to a client of a practice, by role and client access
#   mode, and what time.push needs on top. The access functions take the user's access
#   and the client's facts as values, so a list of clients is decided without building
#   a resource per client; they are also used for the items of a client (SPEC §2.5).
package clearance.clients

import data.clearance.lib

# denials(req) are the deny codes for a client action; empty when nothing refuses.
denials(req) := access_denials(access(req.subject), client.ledger, client.allocated, client.ledger_access) | action_denials(req) if {
	client := req.resource
}

# grants(req) are the rules that grant a client action.
grants(req) := access_grants(access(req.subject), client.ledger, client.allocated, client.ledger_access) | action_grants(req) if {
	client := req.resource
}

# row_resource(row) is the client resource a row of a list stands for: a list gives clients as
# [id, account_id, ledger, allocated, ledger_access] (allocated and ledger_access are the
# subject's), half the JSON of resource objects.
row_resource(row) := {
	"type": "client", "id": id, "attributes": {}, "found": true,
	"account_id": account_id, "ledger": ledger, "allocated": allocated, "ledger_access": ledger_access,
} if {
	[id, account_id, ledger, allocated, ledger_access] := row
}

# Every code this area gives, for the reason table and its tests.
deny_codes := {"role_not_permitted", "client_not_allocated", "ledger_access_required", "xpm_link_required"}

grant_codes := {"top_admin", "client_access_all", "client_allocated", "ledger_access", "xpm_linked"}

# The messages of this area's own codes (role_not_permitted and top_admin: lib.messages).
messages := {
	"client_not_allocated": "the client is not allocated to the user",
	"ledger_access_required": "needs ledger access to this client in Xero first",
	"xpm_link_required": "the user must be linked to a Xero Practice Manager staff member first",
	"client_access_all": "the user may access all clients",
	"client_allocated": "the client is allocated to the user",
	"ledger_access": "the user has access to this client in Xero",
	"xpm_linked": "the user is linked to a Xero Practice Manager staff member",
}

# access(user) is how the user reaches the clients of the practice: "top_admin" (practice
# admins see every client), the client access mode of client admins and standard users, or
# "none" (expense approvers and business roles). It depends on the user only, so a list of
# clients works it out once.
access(user) := "top_admin" if {
	user.role == "practice_admin"
} else := lib.client_access_mode(user) if {
	lib.has_client_access_mode(user)
} else := "none"

# access_denials(access, ledger, allocated, ledger_access) say why a user with that access has
# none to a client with those facts (allocated and ledger_access are relative to the user).
access_denials("top_admin", _, _, _) := set()

access_denials("none", _, _, _) := {"role_not_permitted"}

access_denials("all", _, _, _) := set()

access_denials("selected", _, allocated, _) := _allocation_denials(allocated)

access_denials("ledger_all", ledger, _, ledger_access) := _ledger_denials(ledger, ledger_access)

access_denials("ledger_selected", ledger, allocated, ledger_access) := _allocation_denials(allocated) | _ledger_denials(
	ledger,
	ledger_access,
)

# access_grants(access, ledger, allocated, ledger_access) are the rules that give a user with
# that access access to a client with those facts. "all", and "ledger_all" on a client whose
# ledger is not Xero: the ledger cannot tell who has access, so the "All clients" half of the
# mode applies.
access_grants("top_admin", _, _, _) := {"top_admin"}

access_grants("none", _, _, _) := set()

access_grants("all", _, _, _) := {"client_access_all"}

access_grants("selected", _, allocated, _) := _allocation_grants(allocated)

access_grants("ledger_all", ledger, _, ledger_access) := _ledger_grants(ledger, ledger_access) | {"client_access_all" |
	ledger != "xero"
}

access_grants("ledger_selected", ledger, allocated, ledger_access) := _allocation_grants(allocated) | _ledger_grants(
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
