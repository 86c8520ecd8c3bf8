"""Forms of the customer screens (customers, addresses, contacts, accounts, files, subscriptions)."""
