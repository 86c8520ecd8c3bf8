"""Demo data of the letters module: each demo brand gets the default templates and triggers (welcome
e-mail, low-balance SMS, invoice e-mail and cover letter). Appended to `telora.core.demo.DEMO_LOADERS`;
loading twice changes nothing. Run `telora smsc-simulator` and an SMTP catcher beside the demo to
see SMS and e-mails leave (docs/letters.md, Demo)."""

from __future__ import annotations

from telora.core import clock
from telora.core.models import Brand
from telora.core.services import Actor


def load_letters_demo(actor: Actor, report) -> None:
    from telora.core.demo import DEMO_BRANDS
    from telora.letters.services.defaults import install_defaults

    codes = [spec["code"] for spec in DEMO_BRANDS]
    report.step("letters: default templates and triggers", len(codes))
    for code in codes:
        brand = Brand.objects.filter(code=code).first()
        if brand is not None:
            added = install_defaults(brand, actor=actor, at=clock.now())
            if added:
                report.note(f"{code}: {added} letter templates and triggers")
        report.advance()


def register() -> None:
    from telora.core.demo import DEMO_LOADERS

    if load_letters_demo not in DEMO_LOADERS:
        DEMO_LOADERS.append(load_letters_demo)
