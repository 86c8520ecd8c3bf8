"""Data protection: a customer's data exported, erased (anonymised), kept no longer than the brand's
retention rules, and the consents they gave per purpose (TMF644). This app sits above billing: an
erasure touches usage and invoices, which the customers app below may not reach."""
