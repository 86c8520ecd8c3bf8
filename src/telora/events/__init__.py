"""Domain events (a transactional outbox read by registered consumers) and TMF630 webhooks."""
