"""Telora's own /api/v1 endpoints for customers and subscriptions (TMF APIs live in customers.tmf)."""
