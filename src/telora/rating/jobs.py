"""Procrastinate task of rating: one job rates one batch (one file's records of one partition)."""

from procrastinate.contrib.django import app


@app.task(name="telora.rating.rate_batch", queue="rating", pass_context=False)
def rate_batch_task(batch_id: int) -> None:
    from telora.rating.services.batches import rate_batch

    rate_batch(batch_id)
