"""Every write to the inventory goes through these functions (keyword-only `actor` and `at`, audited)."""

from telora.inventory.services.allocation import (
    allocate_number,
    allocate_sim,
    block_sim,
    cancel_number_reservation,
    cancel_sim_reservation,
    end_quarantine,
    release_expired,
    release_number,
    release_sim,
    reserve_number,
    reserve_sim,
    retire_sim,
    unblock_sim,
)
from telora.inventory.services.imports import (
    ImportResult,
    RowError,
    import_numbers,
    import_sims,
    start_import,
)
from telora.inventory.services.porting import port_in_number, port_out_number
from telora.inventory.services.setup import (
    configure_inventory,
    create_number,
    create_number_group,
    create_sim,
    delete_number_group,
    update_number_group,
)

__all__ = [
    "ImportResult",
    "RowError",
    "allocate_number",
    "allocate_sim",
    "block_sim",
    "cancel_number_reservation",
    "cancel_sim_reservation",
    "configure_inventory",
    "create_number",
    "create_number_group",
    "create_sim",
    "delete_number_group",
    "end_quarantine",
    "import_numbers",
    "import_sims",
    "port_in_number",
    "port_out_number",
    "release_expired",
    "release_number",
    "release_sim",
    "reserve_number",
    "reserve_sim",
    "retire_sim",
    "start_import",
    "unblock_sim",
    "update_number_group",
]
