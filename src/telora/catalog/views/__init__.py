"""The catalogue GUI (see entities.py for the generic screens every section shares)."""
