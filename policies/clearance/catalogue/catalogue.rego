# METADATA
# title: Action catalogue
# description: |
#   Every action Clearance knows, the resource type it applies to and the account
#   kinds it exists in (tables.rego). This is the only list of actions: the service asks the
#   policy, so adding an action touches policy files only (that table and the area's rules).
package clearance.catalogue

import data.clearance.catalogue.tables

# resource_type(action) is the type of resource the action applies to; undefined for an
# action that is not in the catalogue.
resource_type(action) := tables.resource_types[action]

# exists_in(action, kind) holds when an action of the catalogue exists in accounts of
# that kind.
exists_in(_, "practice")

exists_in(action, "business") if not action in tables.practice_only

is_resource_type(type) if type in tables.resource_type_names
