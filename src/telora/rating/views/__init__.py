"""Rating's screens: usage files and their upload, rating jobs, failed records, a subscription's usage."""
