# METADATA
# title: Client access
# description: |
#   SPEC §2.2: who has access to a client of a practice, by role and client access
#   mode, and what time.push needs on top. The access functions take the user's access
#   and the client's facts, so they serve the items of a client (SPEC §2.5) and the
#   limits on delegation (SPEC §2.4a) too.
package clearance.clients

import data.clearance.lib

# denials(req) are the deny codes for a client action; empty when nothing refuses.
denials(req) := access_denials(access(req.subject), req.resource) | action_denials(req)

# grants(req) are the rules that grant a client action.
grants(req) := access_grants(access(req.subject), req.resource) | action_grants(req)

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

# access_denials(access, client) say why a user with that access has none to the client: its
# facts ledger, allocated and ledger_access (the last two are the user's).
access_denials("top_admin", _) := set()

access_denials("none", _) := {"role_not_permitted"}

access_denials("all", _) := set()

access_denials("selected", client) := _allocation_denials(client)

access_denials("ledger_all", client) := _ledger_denials(client)

access_denials("ledger_selected", client) := _allocation_denials(client) | _ledger_denials(client)

# access_grants(access, client) are the rules that give a user with that access access to the
# client. "all", and "ledger_all" on a client whose ledger is not Xero: the ledger cannot tell
# who has access, so the "All clients" half of the mode applies.
access_grants("top_admin", _) := {"top_admin"}

access_grants("none", _) := set()

access_grants("all", _) := {"client_access_all"}

access_grants("selected", client) := _allocation_grants(client)

access_grants("ledger_all", client) := _ledger_grants(client) | {"client_access_all" | client.ledger != "xero"}

access_grants("ledger_selected", client) := _allocation_grants(client) | _ledger_grants(client)

_allocation_denials(client) := {"client_not_allocated" | client.allocated != true}

_allocation_grants(client) := {"client_allocated" | client.allocated == true}

# Ledger access is only known for Xero clients (SPEC §1).
_ledger_denials(client) := {"ledger_access_required" |
	client.ledger == "xero"
	client.ledger_access != true
}

_ledger_grants(client) := {"ledger_access" |
	client.ledger == "xero"
	client.ledger_access == true
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
