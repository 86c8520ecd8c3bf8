"""Demo sequencing: each demo brand's network target gets the sequencing shipped with Telora
(provisioning/data/sequencing.yaml), so Provisioning -> Sequencing reads as a product manager would
configure it. Runs after the provisioning demo (which makes the targets); loading twice changes nothing."""

from __future__ import annotations

from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor


def load_sequencing_demo(actor: Actor, report) -> None:
    from telora.core.demo import DEMO_BRANDS
    from telora.provisioning.models import Sequencing
    from telora.provisioning.sequencing import DEFAULT_FILE
    from telora.provisioning.sequencing_services import apply_sequencing
    from telora.provisioning.services import target_for

    for spec in DEMO_BRANDS:
        brand = Brand.objects.filter(code=spec["code"]).first()
        if brand is None:
            continue
        report.step(f"{brand.code}: provisioning sequencing", 1)
        report.advance()
        target = target_for(brand)
        if target is None or Sequencing.objects.filter(target=target).exists():
            continue
        apply_sequencing(brand, DEFAULT_FILE.read_text(encoding="utf-8"), actor=actor, at=clock.now(),
                         source=DEFAULT_FILE.name)
        steps = sum(len(steps) for steps in Sequencing.objects.get(target=target).document["operations"].values())
        report.note(f"{brand.code}: {steps} sequencing steps in 7 order operations (the default)")

def register() -> None:
    from telora.core.demo import DEMO_LOADERS

    if load_sequencing_demo not in DEMO_LOADERS:
        DEMO_LOADERS.append(load_sequencing_demo)
