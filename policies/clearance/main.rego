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
#   parse), decisions (a list of clients of one subject and action, decided by the same
#   stages with the request stage worked out once) and messages.
package clearance

import data.clearance.accounts
import data.clearance.catalogue
import data.clearance.clients
import data.clearance.items
import data.clearance.lib
import data.clearance.log
import data.clearance.tables
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
# title: One decision, compact, with what its log entry must not keep
# description: |
#   For input {"endpoint", "input": request}: [verdict_of(request), masks], masks being what
#   log.mask gives for the entry the service logs, {"endpoint", "input": request, "result":
#   decide(request)}. The service's single decisions read this: one call for the answer and
#   its masks instead of two (contract clearance/v2).
# entrypoint: true
# scope: document
logged_verdict := [verdict, masks] if {
	verdict := verdict_of(input.input)
	entry := {"endpoint": input.endpoint, "input": input.input, "result": _expanded(verdict)}
	masks := log.mask with input as entry
}

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

# Each distinct row is decided once, through the same stages as a single decision (see "lists
# of clients" below). A list has few distinct decisions: giving each once and an index per
# client keeps the result small, and the module hashes its whole result twice (into its result
# set and again to read it out) before writing it as JSON.
decisions := {"outcomes": outcomes, "clients": [index[key] | some key in keys]} if {
	is_array(input.clients)
	keys := [_row_key(row) | some row in input.clients]
	list := object.remove(input, {"clients"})
	request := _request_stage(list)
	verdicts := {key: _row_verdict(list, request, key) | some key in {key | some key in keys}}
	outcomes := sort({verdict | some verdict in verdicts})
	position := {verdict: i | some i, verdict in outcomes}
	index := {key: position[verdict] | some key, verdict in verdicts}
}

# METADATA
# title: Decisions for a list of subjects
# description: |
#   Who may do this to one resource. For input {"action", "account", "resource", "subjects":
#   [[subject, facts], ...]}: {"outcomes": [[allow, reason, ...], ...], "subjects": [i, ...]},
#   the distinct decisions and, for each subject in order, the index of its decision. A
#   subject's decision is what decision gives for {"action", "subject", "account", "resource":
#   resource with facts over it}: facts are the resource's facts that depend on the subject (a
#   client's allocated and ledger_access, an item's client, the client being allocated), so a
#   subject row carries only those. Both arrays are empty when subjects is not an array.
# entrypoint: true
# scope: document
default subject_decisions := {"outcomes": [], "subjects": []}

# As for clients: each distinct row is decided once, by the same stages as a single decision.
subject_decisions := {"outcomes": outcomes, "subjects": [index[key] | some key in keys]} if {
	is_array(input.subjects)
	keys := [_subject_key(row) | some row in input.subjects]
	verdicts := {key: _subject_verdict(key) | some key in {key | some key in keys}}
	outcomes := sort({verdict | some verdict in verdicts})
	position := {verdict: i | some i, verdict in outcomes}
	index := {key: position[verdict] | some key, verdict in verdicts}
}

# METADATA
# title: Decisions for a list of resources
# description: |
#   What one subject may do to each of many resources of one type. For input {"action",
#   "subject", "account", "resources": [resource, ...]}: {"outcomes": [[allow, reason, ...],
#   ...], "resources": [i, ...]}, the distinct decisions and, for each resource in order, the
#   index of its decision. A resource's decision is what decision gives for {"action",
#   "subject", "account", "resource"}. Both arrays are empty when resources is not an array.
#   (Clients have their own, leaner list: decisions.)
# entrypoint: true
# scope: document
default resource_decisions := {"outcomes": [], "resources": []}

resource_decisions := {"outcomes": outcomes, "resources": [index[key] | some key in keys]} if {
	is_array(input.resources)
	keys := [_resource_key(resource) | some resource in input.resources]
	list := object.remove(input, {"resources"})
	request := _request_stage(list)
	verdicts := {key: _verdict(request, object.union(list, {"resource": key})) | some key in {key | some key in keys}}
	outcomes := sort({verdict | some verdict in verdicts})
	position := {verdict: i | some i, verdict in outcomes}
	index := {key: position[verdict] | some key, verdict in verdicts}
}

# METADATA
# title: Reason messages
# description: The message of every reason code, for the codes that decisions gives.
# entrypoint: true
messages := _message_table

# Kept apart from the entrypoint: OPA's WebAssembly planner refuses a function that reads an
# entrypoint rule (_reason below). The table is merged from the areas' own in tables.rego.
_message_table := tables.messages

# The messages of the input, "always first" and default codes; each area keeps its own.
own_messages := {
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

# Every code a decision can give.
reason_codes := union({
	{"invalid_input", "no_rule_matched"},
	_always_first_codes,
	clients.deny_codes, clients.grant_codes,
	accounts.deny_codes, accounts.grant_codes,
	users.deny_codes, users.grant_codes,
	items.deny_codes, items.grant_codes,
})

_always_first_codes := {
	"unknown_subject", "resource_not_found", "unknown_action",
	"user_suspended", "tenant_mismatch", "resource_type_mismatch", "account_kind_not_supported",
}

# decide(req) is the decision for one request, with messages; it is defined for every req.
decide(req) := _expanded(verdict_of(req))

# _expanded(entry) is a compact verdict [allow, reason, ...] with each reason {"code", "message"}.
_expanded(entry) := {"allow": entry[0], "reasons": [_reason(reason) | some i, reason in entry; i > 0]}

# verdict_of(req) is the decision for one request in compact form; it is defined for every req.
verdict_of(req) := _invalid_entry(validation.problems(req)) if {
	not is_object(req)
} else := _verdict(_request_stage(req), req)

# ---- the stages of a decision ----------------------------------------------------------------
#
# One pipeline for a single decision and for lists. What depends on the action, the subject and
# its account only is the request stage, worked out once for a list; the rest is decided per
# resource, in order: input checks, "always first", the area's denials, its grants, the default.

# _request_stage(req) is what every resource of req shares: the problems and the "always first"
# codes of the action, the subject and its account. req's resource, if any, is not read.
_request_stage(req) := {
	"problems": validation.request_problems(req),
	"always_first": _request_always_first(req),
}

# _verdict(request, req) is the decision for req, whose request stage is request.
_verdict(request, req) := _invalid_entry(problems) if {
	problems := request.problems | validation.resource_problems(req, object.get(req, "resource", null))
	count(problems) > 0
} else := _entry(false, codes) if {
	codes := request.always_first | _resource_always_first(req)
	count(codes) > 0
} else := _denial_entry(reasons) if {
	reasons := _area_denials(req.resource.type, req)
	count(reasons) > 0
} else := _entry(true, codes) if {
	codes := _area_grants(req.resource.type, req)
	count(codes) > 0
} else := _entry(false, {"no_rule_matched"})

# SPEC §2.1 "always first": when any of these applies, all that apply are listed and no area
# rule is looked at. Refused here too, as our addition: a resource of the wrong type for the
# action, and an action that does not exist in the subject's kind of account (role and
# permission rules say nothing useful about an action the account does not have).
_request_always_first(req) := union({
	{"unknown_subject" | req.subject.found == false},
	{"unknown_action" | not catalogue.resource_type(req.action)},
	{"user_suspended" | req.subject.status == "suspended"},
	{"account_kind_not_supported" |
		req.subject.found == true
		catalogue.resource_type(req.action)
		not catalogue.exists_in(req.action, req.account.kind)
	},
})

# user.create names no existing user: there is nothing to find, and the target account is the
# subject's own, so it cannot mismatch.
_resource_always_first(req) := union({
	{"resource_type_mismatch" | catalogue.resource_type(req.action) != req.resource.type},
	{"resource_not_found" |
		req.action != "user.create"
		req.resource.found == false
	},
	{"tenant_mismatch" |
		req.subject.found == true
		req.action != "user.create"
		req.resource.found == true
		req.resource.account_id != req.subject.account_id
	},
})

# Area rules, by resource type.
_area_denials("client", req) := clients.denials(req)

_area_denials("account", req) := accounts.denials(req)

_area_denials("user", req) := users.denials(req)

_area_denials("item", req) := items.denials(req)

_area_grants("client", req) := clients.grants(req)

_area_grants("account", req) := accounts.grants(req)

_area_grants("user", req) := users.grants(req)

_area_grants("item", req) := items.grants(req)

# ---- lists of clients ------------------------------------------------------------------------

# A listed client's decision is _verdict for the client resource its row stands for, with the
# request stage worked out once. It depends on the client's facts and on whether its id is a
# string (an input check), not on which id (no rule of the client area reads it): rows that
# differ in id only are one key, decided once.
_row_key(row) := ["", account_id, ledger, allocated, ledger_access] if {
	[id, account_id, ledger, allocated, ledger_access] := row
	is_string(id)
} else := row

_row_verdict(list, request, key) := _verdict(request, object.union(list, {"resource": resource})) if {
	resource := clients.row_resource(key)
} else := _invalid_entry(request.problems | validation.client_problems(list, key))

# ---- lists of subjects -----------------------------------------------------------------------

# A listed subject's decision is verdict_of for the request its row stands for. The rules read a
# subject's id only against the resource's own id (a user acting on themselves) and an item's
# owner, so rows whose subject is neither share a key with the id left out, and are decided once.
# A subject as the service lists it (its eight fields) is keyed by its values in a row ("shape"),
# which is hashed and compared in a fraction of the time of the object; any other row is keyed as
# it is ("row"). Both are wrapped, so no input row can pass for a key.
_subject_key(row) := {"shape": [
	subject.found, subject.account_id, subject.role, subject.status, subject.client_access_mode,
	subject.permissions, _link(subject), facts,
]} if {
	[subject, facts] := row

	# Exactly the eight fields: the count, and each read (in the key, or here).
	count(subject) == 8
	is_string(subject.id)
	_ := subject.xpm_staff_id
	not _names(input.resource, subject.id)
	not _names(facts, subject.id)
} else := {"row": row}

# The rules read a subject's practice-manager link only as there or not (lib.has_xpm_link), so
# rows whose links differ in the staff member alone share a key too.
_link(subject) := "(a staff member)" if {
	lib.has_xpm_link(subject)
} else := object.get(subject, "xpm_staff_id", null)

# A listed resource's decision, the other way round: a resource's id and an item's owner are read
# only against the subject's id, so a resource whose ids are not the subject's shares a key with
# them left out.
_resource_key(resource) := object.union(resource, {"id": "(any other resource)", "owner_user_id": "(another user)"}) if {
	is_string(resource.id)
	is_string(resource.owner_user_id)
	not _names(resource, input.subject.id)
} else := object.union(resource, {"id": "(any other resource)"}) if {
	is_string(resource.id)
	not is_string(object.get(resource, "owner_user_id", null))
	not _names(resource, input.subject.id)
} else := resource

_names(resource, id) if resource.id == id

_names(resource, id) if resource.owner_user_id == id

# The resource as one subject sees it: the list's resource with the subject's facts over it.
_subject_resource(facts) := object.union(input.resource, facts) if {
	is_object(input.resource)
	is_object(facts)
} else := object.get(input, "resource", null)

# A subject keyed by its values stands for any subject with them, the id none of the resource's
# (a name no id can have: ids are 1 to 128 letters, digits and "_.:-").
_subject_verdict(key) := _subject_request_verdict(subject, facts) if {
	[found, account_id, role, status, mode, permissions, link, facts] := key.shape
	subject := {
		"id": "(any other subject)", "found": found, "account_id": account_id, "role": role,
		"status": status, "client_access_mode": mode, "permissions": permissions, "xpm_staff_id": link,
	}
} else := _subject_request_verdict(subject, facts) if {
	[subject, facts] := key.row
} else := _invalid_entry({"subject must be an array of a subject and the facts of the resource for it"})

_subject_request_verdict(subject, facts) := verdict_of({
	"action": object.get(input, "action", null),
	"subject": subject,
	"account": object.get(input, "account", null),
	"resource": _subject_resource(facts),
}) if {
	is_object(facts)
} else := _invalid_entry({"subject must be an array of a subject and the facts of the resource for it"})

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
