# METADATA
# title: Decision log masking
# description: |
#   What the decision log must not keep, in the manner of OPA's system.log.mask. The service
#   evaluates mask for every entry before it is written (or spilled to disk), and the entry
#   records which masks were applied. Masks never change a decision: they apply to the copy
#   that is logged.
package clearance.log

import data.clearance.lib

# METADATA
# title: Masks for one decision log entry
# description: |
#   input is the entry {"endpoint", "input", "result"}: input is the policy input, result
#   the answer. Each element is either a JSON pointer into the entry ("/input/account/name")
#   whose value is removed, or {"op": "upsert", "path": <pointer>, "value": <new value>},
#   which replaces it. A pointer to nothing is skipped.
# entrypoint: true
mask contains "/input/account/name" if is_string(input.input.account.name)

# Callers may send any resource attributes; the rules read only the proposed values of a user
# resource, which the log keeps so the decision can be replayed. Anything else is the caller's
# data that the log has no reason to keep.
mask contains pointer(["input", "resource", "attributes", key]) if {
	some key, _ in input.input.resource.attributes
	not _judged(input.input.resource, key)
}

_judged(resource, key) if {
	resource.type == "user"
	key in lib.tables.resource_attributes
}

# pointer(segments) is the JSON pointer (RFC 6901) to a path of object keys.
pointer(segments) := concat("", [concat("", ["/", _escape(segment)]) | some segment in segments])

_escape(segment) := replace(replace(segment, "~", "~0"), "/", "~1")
