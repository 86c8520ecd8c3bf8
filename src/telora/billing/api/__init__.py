"""Billing's own API: `/api/v1/billruns` (start, follow, approve and compare bill runs) and
`/api/v1/billing/adjustments` (list, create). See docs/billing.md, section API."""
