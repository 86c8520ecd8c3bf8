"""Imported by render_many's forkserver before it forks any worker: WeasyPrint, fontconfig, the
default template and Babel's data are loaded here once, so a worker starts on its first invoice at
full speed instead of spending ~0.6 s on imports and a cold first document. The heap is then
frozen (gc.freeze), as Python advises before forking. Nothing else should
import it (it renders a sample invoice on import)."""

import gc

from telora.billing.documents.pdf import warm_up

try:
    warm_up()
except Exception:  # noqa: BLE001  (a failed warm-up costs speed only; the forkserver must start)
    pass
gc.collect()
gc.freeze()  # the loaded modules and caches: never walked again by the workers' collector, and shared
