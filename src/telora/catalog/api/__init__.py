"""Telora's own /api/v1 endpoints of the catalogue (config as code)."""
