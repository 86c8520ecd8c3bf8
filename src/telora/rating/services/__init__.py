"""Rating pipeline services: intake (file -> staged records in batches per subscription
partition), rating a batch (one transaction), and running pending batches."""

from telora.rating.services.batches import rate_batch, rate_pending
from telora.rating.services.intake import (
    PARTITIONS,
    import_usage_file,
    import_usage_records,
    partition_of,
    receive_usage_file,
)

__all__ = ["PARTITIONS", "import_usage_file", "import_usage_records", "partition_of", "rate_batch", "rate_pending",
           "receive_usage_file"]
