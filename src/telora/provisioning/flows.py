"""The flows provisioning ships: variants of the standard order flows that provision automatically.

A brand whose network target uses an adapter (not `manual`) may run them: `install_automatic_flows`
publishes each as the brand's own version of the standard flow of the same key (a brand's own flow
wins over the standard one), so the orders app needs no change and other brands keep the desk.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from telora.core.services import Actor, ServiceError

FLOW_DIR = Path(__file__).resolve().parent / "flows"


def automatic_flows() -> dict[str, Path]:
    """The standard flow's key -> the automatic variant (a file named `<key>_auto.bpmn`)."""
    return {path.stem.removesuffix("_auto"): path for path in sorted(FLOW_DIR.glob("*_auto.bpmn"))}


def install_automatic_flows(brand, *, actor: Actor, at: dt.datetime) -> list[str]:
    """Publish the automatic variants for the brand; refused while its network target is manual."""
    from telora.provisioning.services import automatic
    from telora.workflows.services import publish_version, save_flow

    if not automatic(brand):
        raise ServiceError("target: the brand's network target is manual (or missing): its flows keep the desk",
                           field="target")
    installed = []
    for key, path in automatic_flows().items():
        version = save_flow(key, path.read_text(), brand=brand, actor=actor, at=at)
        publish_version(version, actor=actor, at=at)
        installed.append(key)
    return installed
