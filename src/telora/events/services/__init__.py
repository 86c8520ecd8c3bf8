"""Every write of the events app: emitting events, dispatching them to consumers, webhook hubs and
their deliveries."""

from telora.events.services.outbox import emit, emit_many

__all__ = ["emit", "emit_many"]
