"""Billing's screens: bill runs (start, follow, summary, compare, approve, delete), invoices and
adjustments."""
