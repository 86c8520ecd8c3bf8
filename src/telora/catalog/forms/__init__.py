"""Forms of the catalogue's GUI (see base.py for how they leave checking to the schema)."""
