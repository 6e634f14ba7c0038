# METADATA
# title: Action catalogue
# description: |
#   Every action Clearance knows, the resource type it applies to and the account
#   kinds it exists in. This is the only list of actions: the service asks the policy,
#   so adding an action touches policy files only (these clauses and the area's rules).
#   Written as function clauses, not as an object: WebAssembly would build an object
#   literal on every evaluation, a clause is one comparison.
package clearance.catalogue

# resource_type(action) is the type of resource the action applies to; undefined for an
# action that is not in the catalogue.
# SPEC §2.2 client access; clients exist in practice accounts only.
resource_type("client.view") := "client"

resource_type("client.access") := "client"

resource_type("client.edit") := "client"

resource_type("client.console.view") := "client"

resource_type("xbert.assign") := "client"

resource_type("task.assign") := "client"

resource_type("time.push") := "client"

# SPEC §2.3 account-level actions, on the subject's own account.
resource_type("settings.view") := "account"

resource_type("settings.edit") := "account"

resource_type("processes.manage") := "account"

resource_type("automation.manage") := "account"

resource_type("users.list") := "account"

resource_type("subscription.manage") := "account"

resource_type("client.create") := "account"

resource_type("insights.view") := "account"

resource_type("expense_claim.create") := "account"

# SPEC §2.4 user management.
resource_type("user.view") := "user"

resource_type("user.profile.edit") := "user"

resource_type("user.create") := "user"

resource_type("user.update") := "user"

resource_type("user.suspend") := "user"

resource_type("user.enable") := "user"

resource_type("user.remove") := "user"

resource_type("user.client_access.edit") := "user"

# SPEC §2.4a: setting or clearing a user's practice-manager link (xpm_staff_id).
resource_type("user.xpm_link.edit") := "user"

# SPEC §2.5 items (documents).
resource_type("item.view") := "item"

resource_type("item.edit") := "item"

resource_type("item.publish") := "item"

resource_type("expense_claim.approve") := "item"

# The actions that exist in practice accounts only: clients, client access modes and the
# practice manager are a practice notion. Every other action exists in both kinds of account.
practice_only("client.view")

practice_only("client.access")

practice_only("client.edit")

practice_only("client.console.view")

practice_only("xbert.assign")

practice_only("task.assign")

practice_only("time.push")

practice_only("processes.manage")

practice_only("automation.manage")

practice_only("client.create")

practice_only("insights.view")

practice_only("user.client_access.edit")

practice_only("user.xpm_link.edit")

# exists_in(action, kind) holds when an action of the catalogue exists in accounts of
# that kind.
exists_in(_, "practice")

exists_in(action, "business") if not practice_only(action)

is_resource_type("client")

is_resource_type("account")

is_resource_type("user")

is_resource_type("item")
