package clearance.catalogue_test

import data.clearance.catalogue

test_every_action_names_a_known_resource_type if {
	every action in catalogue.actions {
		action.resource_type in catalogue.resource_types
	}
}

test_every_action_exists_in_at_least_one_account_kind if {
	every action in catalogue.actions {
		count(action.account_kinds) > 0
		every kind in action.account_kinds {
			kind in {"practice", "business"}
		}
	}
}

test_client_actions_exist_in_practice_accounts_only if {
	every action in catalogue.actions {
		_practice_only_when_client(action)
	}
}

_practice_only_when_client(action) if action.resource_type != "client"

_practice_only_when_client(action) if action.account_kinds == {"practice"}

test_expense_claim_create_is_an_account_action if {
	catalogue.actions["expense_claim.create"].resource_type == "account"
}

test_the_catalogue_holds_the_spec_actions if {
	count(catalogue.actions) == 28
}
