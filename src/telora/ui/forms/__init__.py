"""GUI forms: they parse and check input; the services decide and write."""
