"""Every write to orders: create (and run or schedule), cancel, notes, files, and the due-order runner."""

from telora.orders.services.orders import (
    add_note,
    attach_file,
    cancel_order,
    create_order,
    next_period_start,
    run_due_orders,
    start_order,
)

__all__ = ["add_note", "attach_file", "cancel_order", "create_order", "next_period_start", "run_due_orders",
           "start_order"]
