"""Writes about flow documents and desks: save a version (validated), publish it, load a folder, desks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.db import transaction

from telora.core.services import Actor, ServiceError
from telora.core.services.audit import record_event
from telora.workflows import registry
from telora.workflows.engine.spiff import FlowError, check_flow, parse_flow, remember_flow
from telora.workflows.models import Desk, FlowDefinition, FlowVersion


def validate_flow(xml: str, *, brand=None) -> object:
    """Parse and check a flow document; ServiceError(field="bpmn_xml") naming line and element."""
    try:
        parsed = parse_flow(xml)
    except FlowError as exc:
        raise ServiceError(str(exc), field="bpmn_xml") from None
    desks = Desk.objects.all() if brand is None else Desk.objects.filter(brand=brand)
    codes = set(desks.values_list("code", flat=True))
    # A standard flow (no brand) runs in every brand: its desks must exist in some brand now, and
    # start_instance refuses clearly in a brand that lacks one.
    problems = check_flow(parsed, service_tasks={s.key: s for s in registry.service_tasks()},
                          desk_exists=codes.__contains__)
    if problems:
        raise ServiceError("; ".join(str(p) for p in problems[:20]), field="bpmn_xml")
    return parsed


@transaction.atomic
def save_flow(key: str, xml: str, *, brand=None, name: str = "", actor: Actor, at: dt.datetime) -> FlowVersion:
    """A new draft version of flow `key` (created if new). Published versions are never edited."""
    if not key or len(key) > 80 or not key.replace("_", "").replace("-", "").isalnum():
        raise ServiceError("a flow key is letters, digits, - and _ (at most 80)", field="key")
    parsed = validate_flow(xml, brand=brand)
    definition, created = FlowDefinition.objects.select_for_update().get_or_create(
        key=key, brand=brand, defaults={"name": name or parsed.spec.description or key, "created_at": at})
    last = definition.versions.order_by("-number").first()
    version = FlowVersion.objects.create(
        definition=definition, number=(last.number + 1) if last else 1, bpmn_xml=xml, process_id=parsed.process_id,
        extensions=parsed.extensions, failure_desk=parsed.failure_desk, created_at=at, created_by=actor.label[:200])
    record_event(actor=actor, at=at, action="create", obj=version, brand=brand,
                 new={"key": key, "number": version.number}, message=f"flow {key} version {version.number} saved")
    return version


@transaction.atomic
def publish_version(version: FlowVersion, *, actor: Actor, at: dt.datetime) -> FlowVersion:
    version = FlowVersion.objects.select_for_update().get(pk=version.pk)
    if version.state == FlowVersion.PUBLISHED:
        return version
    parsed = validate_flow(version.bpmn_xml, brand=version.definition.brand)  # the registry or desks may have changed
    version.state, version.published_at = FlowVersion.PUBLISHED, at
    version.save(update_fields=["state", "published_at"])
    transaction.on_commit(lambda: remember_flow(version, parsed))  # this process starts it without parsing again
    record_event(actor=actor, at=at, action="publish", obj=version, brand=version.definition.brand,
                 new={"state": version.state}, message=f"flow {version.definition.key} v{version.number} published")
    return version


def publish_flow(key: str, xml: str, *, brand=None, name: str = "", actor: Actor, at: dt.datetime) -> FlowVersion:
    """Save and publish in one go; the same document as the latest published version is not duplicated."""
    with transaction.atomic():
        latest = (FlowVersion.objects.filter(definition__key=key, definition__brand=brand, state=FlowVersion.PUBLISHED)
                  .order_by("-number").first())
        if latest is not None and latest.bpmn_xml == xml:
            return latest
        return publish_version(save_flow(key, xml, brand=brand, name=name, actor=actor, at=at), actor=actor, at=at)


def load_flows(folder: Path, *, brand=None, actor: Actor, at: dt.datetime) -> list[FlowVersion]:
    """Publish every <key>.bpmn of a folder (the file name is the flow key)."""
    files = sorted(Path(folder).glob("*.bpmn"))
    if not files:
        raise ServiceError(f"no .bpmn files in {folder}", field="folder")
    versions = []
    for path in files:
        try:
            versions.append(publish_flow(path.stem, path.read_text(), brand=brand, actor=actor, at=at))
        except ServiceError as exc:
            raise ServiceError(f"{path.name}: {exc}", field=exc.field) from None
    return versions


@transaction.atomic
def create_desk(brand, code: str, name: str, *, roles=(), actor: Actor, at: dt.datetime) -> Desk:
    if not code or not code.replace("_", "").replace("-", "").isalnum() or len(code) > 64:
        raise ServiceError("a desk code is letters, digits, - and _ (at most 64)", field="code")
    if Desk.objects.filter(brand=brand, code=code).exists():
        raise ServiceError(f"desk {code!r} exists already in {brand.code}", field="code")
    desk = Desk.objects.create(brand=brand, code=code, name=name[:200] or code)
    desk.roles.set(roles)
    record_event(actor=actor, at=at, action="create", obj=desk, brand=brand, new={"code": code, "name": desk.name})
    return desk
