# METADATA
# title: Clearance decisions
# description: |
#   May this user do this action on this thing? verdict_of(req) answers one request with
#   [allow, reason, ...]: input checks first, then the "always first" rules of SPEC §2.1,
#   then the rules of the resource's area. Deny is the default; an allow carries the
#   rules that granted it. A reason is a code, whose message is in messages, or
#   {"code", "message"} when it has its own message (invalid_input); decide(req) gives
#   the same as {"allow", "reasons": [{"code", "message"}, ...]}.
#   Entrypoints: decision (decide for input, the OPA-compatible answer), verdict (the same
#   in the compact form, which the service reads: a quarter of the bytes to write and
#   parse), decisions (a list of clients of one subject and action, with what depends on
#   the subject and the action worked out once) and messages.
package clearance

import data.clearance.accounts
import data.clearance.catalogue
import data.clearance.clients
import data.clearance.items
import data.clearance.lib
import data.clearance.users
import data.clearance.validation

# METADATA
# title: One decision
# description: The decision for input, a single request; a deny when input is missing.
# entrypoint: true
# scope: document
default decision := {"allow": false, "reasons": [{"code": "invalid_input", "message": "input is missing"}]}

decision := decide(input)

# METADATA
# title: One decision, compact
# description: |
#   verdict_of(input): decision as [allow, reason, ...], a reason being its code (the message
#   is messages[code]) or {"code", "message"} when it has its own message.
# entrypoint: true
# scope: document
default verdict := [false, {"code": "invalid_input", "message": "input is missing"}]

verdict := verdict_of(input)

# METADATA
# title: Decisions for a list of clients
# description: |
#   For input {"action", "subject", "account", "clients": [[id, account_id, ledger,
#   allocated, ledger_access], ...]}: {"outcomes": [[allow, reason, ...], ...], "clients":
#   [i, ...]}, the distinct decisions of the list and, for each client in order, the index
#   of its decision in outcomes. A client's decision is what decision gives for the same
#   action, subject and account and the resource {"type": "client", "id", "attributes": {},
#   "found": true, "account_id", "ledger", "allocated", "ledger_access"}, with the same
#   reasons in the same order; a reason is its code (the message is messages[code]), or
#   {"code", "message"} when it carries its own message (invalid_input). Both arrays are
#   empty when clients is not an array.
# entrypoint: true
# scope: document
default decisions := {"outcomes": [], "clients": []}

# A list has few distinct decisions: giving each once and an index per client keeps the
# result small, and the module hashes its whole result twice (into its result set and again
# to read it out) before writing it as JSON.
decisions := {"outcomes": outcomes, "clients": [index[entry] | some entry in entries]} if {
	is_array(input.clients)
	entries := _decide_clients(input)
	outcomes := sort({entry | some entry in entries})
	index := {entry: i | some i, entry in outcomes}
}

# METADATA
# title: Reason messages
# description: The message of every reason code, for the codes that decisions gives.
# entrypoint: true
messages := _message_table

# Kept apart from the entrypoint: OPA's WebAssembly planner refuses a function that reads an
# entrypoint rule (_reason below).
_message_table := object.union(
	object.union(object.union(_own_messages, lib.messages), object.union(clients.messages, accounts.messages)),
	object.union(users.messages, items.messages),
)

# Every code a decision can give.
reason_codes := union({
	{"invalid_input", "no_rule_matched"},
	_stage_one_codes,
	clients.deny_codes, clients.grant_codes,
	accounts.deny_codes, accounts.grant_codes,
	users.deny_codes, users.grant_codes,
	items.deny_codes, items.grant_codes,
})

_stage_one_codes := {
	"unknown_subject", "resource_not_found", "unknown_action",
	"user_suspended", "tenant_mismatch", "resource_type_mismatch", "account_kind_not_supported",
}

# The messages of the input, "always first" and default codes; each area keeps its own.
_own_messages := {
	"invalid_input": "the request is malformed",
	"unknown_subject": "the subject is not a known user",
	"resource_not_found": "the resource does not exist",
	"unknown_action": "the action is not in the catalogue",
	"user_suspended": "the user is suspended",
	"tenant_mismatch": "the resource belongs to another account",
	"resource_type_mismatch": "the action does not apply to this type of resource",
	"account_kind_not_supported": "the action does not exist for this kind of account",
	"no_rule_matched": "no rule allows this action",
}

# decide(req) is the decision for one request, with messages; it is defined for every req.
decide(req) := {"allow": entry[0], "reasons": [_reason(reason) | some i, reason in entry; i > 0]} if {
	entry := verdict_of(req)
}

# verdict_of(req) is the decision for one request in compact form; it is defined for every req.
verdict_of(req) := _invalid_entry(problems) if {
	problems := validation.problems(req)
	count(problems) > 0
} else := _entry(false, codes) if {
	codes := _stage_one(req)
	count(codes) > 0
} else := _denial_entry(reasons) if {
	reasons := _area_denials(req.resource.type, req)
	count(reasons) > 0
} else := _entry(true, codes) if {
	codes := _area_grants(req.resource.type, req)
	count(codes) > 0
} else := _entry(false, {"no_rule_matched"})

# An entry is flat, [allow, reason, ...]; reasons are sorted by code (then message): sort
# makes the order the same in OPA and in WebAssembly.
_entry(allow, codes) := array.concat([allow], sort(codes))

_invalid_entry(problems) := array.concat([false], _invalid_reasons(problems))

# An area's denials are codes, and may carry reasons with their own message
# (grant_exceeds_own_access says what exceeds): sorted by code, then message, all the same.
_denial_entry(reasons) := _entry(false, reasons) if {
	every reason in reasons {
		is_string(reason)
	}
} else := array.concat([false], [key[2] | some key in sort({_sort_key(reason) | some reason in reasons})])

_sort_key(reason) := [reason, "", reason] if {
	is_string(reason)
} else := [reason.code, reason.message, reason]

_invalid_reasons(problems) := [{"code": "invalid_input", "message": problem} | some problem in sort(problems)]

# _reason(code) is a reason of an entry with its message: a code gets the one in the table;
# a reason with its own message ({"code", "message"}) is kept as it is.
_reason(code) := {"code": code, "message": object.get(_message_table, code, code)} if {
	is_string(code)
} else := code

# SPEC §2.1 "always first": when any of these applies, all that apply are listed and
# no area rule is looked at. Refused here too, as our addition: a resource of the wrong
# type for the action, and an action that does not exist in the subject's kind of account
# (role and permission rules say nothing useful about an action the account does not have).
_stage_one(req) := set() if {
	_request_clear(req, req.resource.type, _action_type(req.action))
	_resource_clear(req, req.resource)
} else := _request_stage_one(req, req.resource.type) | _resource_stage_one(req, req.resource)

# The codes that depend on the subject, the action and the resource type only. The common
# case comes first: none applies, checked in one pass with one catalogue lookup.
_request_stage_one(req, resource_type) := _action_stage_one(req, resource_type, _action_type(object.get(req, "action", null)))

_action_stage_one(req, resource_type, action_type) := set() if {
	_request_clear(req, resource_type, action_type)
} else := union({
	{"unknown_subject" | req.subject.found == false},
	{"unknown_action" | action_type == null},
	{"user_suspended" | req.subject.status == "suspended"},
	{"resource_type_mismatch" |
		action_type != null
		action_type != resource_type
	},
	{"account_kind_not_supported" |
		req.subject.found == true
		action_type != null
		not catalogue.exists_in(req.action, req.account.kind)
	},
})

# Nothing of stage 1 applies to the request: a known, active subject and an action of the
# catalogue for this resource type and kind of account.
_request_clear(req, resource_type, action_type) if {
	req.subject.found == true
	req.subject.status != "suspended"
	action_type == resource_type
	catalogue.exists_in(req.action, req.account.kind)
}

# Nothing of stage 1 applies to the resource: it was found, in the subject's account.
_resource_clear(req, resource) if {
	resource.found == true
	resource.account_id == req.subject.account_id
}

# _action_type(action) is the catalogue's resource type for the action, null when the
# action is not in the catalogue.
_action_type(action) := resource_type if {
	resource_type := catalogue.resource_type(action)
} else := null

# user.create names no existing user: there is nothing to find, and the target account
# is the subject's own, so it cannot mismatch. The common case first: a resource found in
# the subject's account.
_resource_stage_one(req, resource) := set() if {
	_resource_clear(req, resource)
} else := {"resource_not_found" |
	req.action != "user.create"
	resource.found == false
} | {"tenant_mismatch" |
	tenant := _tenant(req)
	tenant != null
	resource.found == true
	resource.account_id != tenant
}

# _tenant(req) is the account every resource of req must belong to: the subject's. null when
# it is not checked: for an unknown subject, and for user.create, whose target account is the
# subject's own.
_tenant(req) := req.subject.account_id if {
	req.subject.found == true
	req.action != "user.create"
} else := null

# Area rules, by resource type.
_area_denials("client", req) := clients.denials(req)

_area_denials("account", req) := accounts.denials(req)

_area_denials("user", req) := users.denials(req)

_area_denials("item", req) := items.denials(req)

_area_grants("client", req) := clients.grants(req)

_area_grants("account", req) := accounts.grants(req)

_area_grants("user", req) := users.grants(req)

_area_grants("item", req) := items.grants(req)

# ---- lists of clients -------------------------------------------------------------------

# decisions for input.clients, with what every client of the list shares worked out once:
# the problems and "always first" codes of the action, subject and account, the account the
# clients must belong to, the subject's access to clients, and the codes of the action alone
# (time.push).
# They are passed as arguments: a local costs nothing per client, a field of an object one
# hashed lookup.
_decide_clients(req) := [_client_entry(req, problems, stage_one, tenant, access, denials, grants, client) |
	some client in req.clients
] if {
	problems := validation.request_problems(req)
	stage_one := _request_stage_one(req, "client")
	tenant := _tenant(req)
	access := _client_access(req)
	denials := clients.action_denials(req)
	grants := clients.action_grants(req)
}

# The subject's access to clients, when the request is well-formed enough to have one.
_client_access(req) := clients.access(req.subject) if {
	is_object(req.subject)
} else := "none"

# _client_entry(req, ..., client) is decide for the client resource that client stands for,
# in the list's compact form: [allow, reason, ...]. The row is taken apart once.
_client_entry(req, problems, stage_one, tenant, access, denials, grants, client) := entry if {
	[id, account_id, ledger, allocated, ledger_access] := client
	row_problems := validation.row_problems(req, id, account_id, ledger, allocated, ledger_access)
	entry := _row_entry(
		_union(problems, row_problems), stage_one, tenant, access, denials, grants,
		account_id, ledger, allocated, ledger_access,
	)
} else := _invalid_entry(_union(problems, validation.client_problems(req, client)))

_row_entry(problems, stage_one, tenant, access, denials, grants, account_id, ledger, allocated, ledger_access) := _invalid_entry(problems) if {
	count(problems) > 0
} else := _entry(false, codes) if {
	codes := _union(stage_one, _client_stage_one(tenant, account_id))
	count(codes) > 0
} else := _entry(false, codes) if {
	codes := _union(clients.access_denials(access, ledger, allocated, ledger_access), denials)
	count(codes) > 0
} else := _entry(true, codes) if {
	codes := _union(clients.access_grants(access, ledger, allocated, ledger_access), grants)
	count(codes) > 0
} else := _entry(false, {"no_rule_matched"})

# A listed client is found; only its account can differ (see _resource_stage_one).
_client_stage_one(tenant, account_id) := {"tenant_mismatch" |
	tenant != null
	account_id != tenant
}

# a | b, without making a new set when a is empty (the common case in a list).
_union(a, b) := b if {
	count(a) == 0
} else := a | b
