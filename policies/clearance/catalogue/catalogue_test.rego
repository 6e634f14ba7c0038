package clearance.catalogue_test

import data.clearance.catalogue

# The actions of SPEC §2 and the resource type each applies to.
_spec_actions := {
	"client.view": "client", "client.access": "client", "client.edit": "client",
	"client.console.view": "client", "xbert.assign": "client", "task.assign": "client", "time.push": "client",
	"settings.view": "account", "settings.edit": "account", "processes.manage": "account",
	"automation.manage": "account", "users.list": "account", "subscription.manage": "account",
	"client.create": "account", "insights.view": "account", "expense_claim.create": "account",
	"user.view": "user", "user.profile.edit": "user", "user.create": "user", "user.update": "user",
	"user.suspend": "user", "user.enable": "user", "user.remove": "user", "user.client_access.edit": "user",
	"user.xpm_link.edit": "user",
	"item.view": "item", "item.edit": "item", "item.publish": "item", "expense_claim.approve": "item",
}

test_the_catalogue_holds_the_spec_actions if {
	count(_spec_actions) == 29
	every action, resource_type in _spec_actions {
		catalogue.resource_type(action) == resource_type
	}
}

test_an_action_outside_the_catalogue_has_no_resource_type if {
	not catalogue.resource_type("client.delete")
	not catalogue.resource_type("CLIENT.VIEW")
}

test_every_action_names_a_known_resource_type if {
	every action, _ in _spec_actions {
		catalogue.is_resource_type(catalogue.resource_type(action))
	}
	not catalogue.is_resource_type("document")
}

test_every_action_exists_in_practice_accounts if {
	every action, _ in _spec_actions {
		catalogue.exists_in(action, "practice")
	}
}

test_client_actions_exist_in_practice_accounts_only if {
	every action, resource_type in _spec_actions {
		_practice_only_when_client(action, resource_type)
	}
}

_practice_only_when_client(_, resource_type) if resource_type != "client"

_practice_only_when_client(action, "client") if not catalogue.exists_in(action, "business")

test_practice_only_account_actions_do_not_exist_in_business_accounts if {
	every action in {
		"processes.manage", "automation.manage", "client.create", "insights.view",
		"user.client_access.edit", "user.xpm_link.edit",
	} {
		not catalogue.exists_in(action, "business")
	}
	every action in {"settings.view", "users.list", "subscription.manage", "expense_claim.create", "user.create"} {
		catalogue.exists_in(action, "business")
	}
}

test_expense_claim_create_is_an_account_action if {
	catalogue.resource_type("expense_claim.create") == "account"
}
