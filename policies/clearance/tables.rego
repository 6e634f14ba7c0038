# The message of every reason code, merged from the tables each area keeps beside its rules.
# Constant tables only (policies/README.md, "Tables"): the build evaluates this file once and
# ships the merged table as data, so an answer with messages (decision, and the entry
# logged_verdict masks) does not merge six tables on every evaluation.
package clearance.tables

import data.clearance
import data.clearance.accounts
import data.clearance.clients
import data.clearance.items
import data.clearance.lib
import data.clearance.users

messages := {code: text |
	some table in [clearance.own_messages, lib.messages, clients.messages, accounts.messages, users.messages, items.messages]
	some code, text in table
}
