"""Rating's own API under /api/v1/usage: usage files and JSON batches in, failed records."""
