"""Pull sources: create, change and remove the collector's sources (folder or SFTP), with
validation naming the field and an audit event for each change. SFTP credentials are sealed
(`services.sealing`): write-only, never in an audit event (only whether they are set).
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import re
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction

from telora.core import rights
from telora.core.models import Brand
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.core.services.audit import record_event, snapshot
from telora.rating import formats
from telora.rating.models import UsageSource

SFTP_FIELDS = ("sftp_host", "sftp_port", "sftp_user", "sftp_path", "sftp_host_key", "sftp_after",
               "sftp_after_folder", "every_minutes")
SOURCE_FIELDS = ("code", "format", "inbox", "archive", "errors", "settle_seconds", "pattern", "enabled",
                 "pre_rated", "max_charge") + SFTP_FIELDS
SECRET_FIELDS = ("password", "private_key")  # write-only: sealed, never read back nor audited
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
HOST_RE = re.compile(r"^[A-Za-z0-9._:-]{1,255}$")
FINGERPRINT_RE = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}$")
AFTER_ACTIONS = ("keep", "move", "delete")


def _may_change(actor: Actor, brand: Brand) -> None:
    """People and API keys need rating.change in the brand; platform jobs (no principal) may."""
    if actor.principal is None and actor.job:
        return
    if actor.principal is None or not rights.has_perm(actor.principal, brand, "rating.change"):
        raise PermissionDeniedError(f"You lack rating.change in {brand.code}.")


def _folder(value, name: str) -> str:
    text = str(value or "").strip()
    if not text:
        raise ServiceError(f"{name}: is required", field=name)
    if not os.path.isabs(text):
        raise ServiceError(f"{name}: {text!r} is not an absolute path", field=name)
    if len(text) > 500:
        raise ServiceError(f"{name}: at most 500 characters", field=name)
    return os.path.normpath(text)


def default_folders(inbox: str) -> tuple[str, str]:
    """Archive and error folders next to the inbox: /data/msc/inbox -> /data/msc/archive, /data/msc/errors."""
    parent = os.path.dirname(os.path.normpath(inbox))
    return os.path.join(parent, "archive"), os.path.join(parent, "errors")


def _clean(values: dict) -> dict:
    """Validated source fields (errors name the field)."""
    code = str(values.get("code") or "").strip()
    if not CODE_RE.match(code):
        raise ServiceError("code: letters, digits, '.', '_' or '-' (at most 64), starting with a letter or digit",
                           field="code")
    fmt = str(values.get("format") or "").strip()
    if fmt not in formats.names():
        raise ServiceError(f"format: unknown format {fmt!r} (known: {', '.join(formats.names())})", field="format")
    inbox = _folder(values.get("inbox"), "inbox")
    archive_default, errors_default = default_folders(inbox)
    archive = _folder(values.get("archive") or archive_default, "archive")
    errors = _folder(values.get("errors") or errors_default, "errors")
    if archive == inbox:
        raise ServiceError("archive: must not be the inbox", field="archive")
    if errors in (inbox, archive):
        raise ServiceError("errors: must differ from the inbox and the archive", field="errors")
    try:
        settle = int(values.get("settle_seconds", 10))
    except (TypeError, ValueError):
        raise ServiceError("settle_seconds: a whole number of seconds", field="settle_seconds") from None
    if settle < 0 or settle > 86400:
        raise ServiceError("settle_seconds: between 0 and 86400", field="settle_seconds")
    pattern = str(values.get("pattern") or "*").strip()
    if len(pattern) > 100 or "/" in pattern:
        raise ServiceError("pattern: a file name glob (no '/', at most 100 characters)", field="pattern")
    pre_rated = bool(values.get("pre_rated", False))
    if pre_rated and not formats.get(fmt).charges:
        carrying = ", ".join(name for name in formats.names() if formats.get(name).charges)
        raise ServiceError(f"pre_rated: {fmt} files carry no charges; a pre-rated source sends {carrying}",
                           field="pre_rated")
    return {"code": code, "format": fmt, "inbox": inbox, "archive": archive, "errors": errors,
            "settle_seconds": settle, "pattern": pattern, "enabled": bool(values.get("enabled", True)),
            "pre_rated": pre_rated, "max_charge": _max_charge(values.get("max_charge")), **_clean_sftp(values)}


def _max_charge(value) -> Decimal | None:
    """The largest charge a record of the source may carry; empty: the platform's default
    (TELORA_USAGE_MAX_CHARGE). Never below zero: credits are not taken from usage records."""
    if value is None or str(value).strip() == "":
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ServiceError(f"max_charge: {value!r} is not an amount", field="max_charge") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal(10) ** 12 or amount != round(amount, 6):
        raise ServiceError("max_charge: an amount from 0 to 999999999999.999999 (at most 6 decimals)",
                           field="max_charge")
    return amount


def _number(values: dict, name: str, default: int, low: int, high: int, what: str) -> int:
    raw = values.get(name)
    try:
        number = int(default if raw in (None, "") else raw)
    except (TypeError, ValueError):
        raise ServiceError(f"{name}: a whole number {what}", field=name) from None
    if not low <= number <= high:
        raise ServiceError(f"{name}: between {low} and {high}", field=name)
    return number


def _remote_folder(value, name: str) -> str:
    text = str(value or "").strip()
    if not text.startswith("/") or len(text) > 500 or "\x00" in text:
        raise ServiceError(f"{name}: an absolute remote path such as /out (at most 500 characters)", field=name)
    return posixpath.normpath(text)


def _clean_sftp(values: dict) -> dict:
    """The SFTP settings; a source without a host is a folder source (its SFTP fields emptied)."""
    host = str(values.get("sftp_host") or "").strip()
    every = _number(values, "every_minutes", 1, 1, 1440, "of minutes")
    if not host:
        return {"sftp_host": "", "sftp_port": 22, "sftp_user": "", "sftp_path": "", "sftp_host_key": "",
                "sftp_after": "keep", "sftp_after_folder": "", "every_minutes": every}
    if not HOST_RE.match(host):
        raise ServiceError(f"sftp_host: {host!r} is not a host name or address", field="sftp_host")
    port = _number(values, "sftp_port", 22, 1, 65535, "(the TCP port)")
    user = str(values.get("sftp_user") or "").strip()
    if not user or len(user) > 100:
        raise ServiceError("sftp_user: is required for an SFTP source (at most 100 characters)", field="sftp_user")
    path = _remote_folder(values.get("sftp_path"), "sftp_path")
    host_key = str(values.get("sftp_host_key") or "").strip()
    if host_key and not FINGERPRINT_RE.match(host_key):
        raise ServiceError("sftp_host_key: a SHA-256 fingerprint such as SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8",
                           field="sftp_host_key")
    after = str(values.get("sftp_after") or "keep").strip()
    if after not in AFTER_ACTIONS:
        raise ServiceError(f"sftp_after: one of {', '.join(AFTER_ACTIONS)}", field="sftp_after")
    folder = ""
    if after == "move":
        folder = _remote_folder(values.get("sftp_after_folder"), "sftp_after_folder")
        if folder == path:
            raise ServiceError("sftp_after_folder: must differ from the remote folder", field="sftp_after_folder")
    return {"sftp_host": host, "sftp_port": port, "sftp_user": user, "sftp_path": path, "sftp_host_key": host_key,
            "sftp_after": after, "sftp_after_folder": folder, "every_minutes": every}


def _credentials(values: dict) -> tuple[str, str]:
    """(password, private key) given to a create or update; the key must be one asyncssh reads."""
    password = str(values.get("password") or "")
    private_key = str(values.get("private_key") or "").strip()
    if len(password) > 500:
        raise ServiceError("password: at most 500 characters", field="password")
    if private_key:
        import asyncssh

        try:
            asyncssh.import_private_key(private_key)
        except (asyncssh.KeyImportError, ValueError):
            raise ServiceError("private_key: not an unencrypted OpenSSH or PEM private key", field="private_key") from None
        private_key += "\n"
    return password, private_key


def _seal_credentials(source: UsageSource, password: str, private_key: str) -> None:
    from telora.rating.services.sealing import seal

    source.sftp_secret = seal(password=password, private_key=private_key, brand_id=source.brand_id,
                              source_id=source.pk)


def _audited(source: UsageSource, credentials: str = "") -> dict:
    """What the audit event keeps: the fields, and whether credentials are set (never their value)."""
    values = snapshot(source, SOURCE_FIELDS)
    if source.is_sftp:
        values["credentials"] = credentials or ("set" if source.sftp_secret else "none")
    return values


def create_source(brand: Brand, *, actor: Actor, at: dt.datetime, code: str, format: str, inbox: str,
                  archive: str = "", errors: str = "", settle_seconds: int = 10, pattern: str = "*",
                  enabled: bool = True, max_charge=None, password: str = "", private_key: str = "",
                  pre_rated: bool = False, **sftp) -> UsageSource:
    """A new pull source of the brand; archive and errors default to siblings of the inbox. With
    `sftp_host` (and the other SFTP_FIELDS) its files are pulled by SFTP into the inbox first;
    `password` and `private_key` are sealed, never stored or audited in clear. A `pre_rated` source
    is an OCS: its records keep the charge (and prepaid balance) they carry."""
    unknown = set(sftp) - set(SFTP_FIELDS)
    if unknown:
        raise ServiceError(f"{sorted(unknown)[0]}: not a field of a source", field=sorted(unknown)[0])
    _may_change(actor, brand)
    values = _clean({"code": code, "format": format, "inbox": inbox, "archive": archive, "errors": errors,
                     "settle_seconds": settle_seconds, "pattern": pattern, "enabled": enabled,
                     "pre_rated": pre_rated, "max_charge": max_charge, **sftp})
    password, private_key = _credentials({"password": password, "private_key": private_key})
    if UsageSource.objects.filter(brand=brand, code__iexact=values["code"]).exists():
        raise ServiceError(f"code: {brand.code} already has a source {values['code']!r}", field="code")
    try:
        with transaction.atomic():
            source = UsageSource.objects.create(brand=brand, **values)
            if source.is_sftp and (password or private_key):
                _seal_credentials(source, password, private_key)
                source.save(update_fields=["sftp_secret"])
            record_event(actor=actor, at=at, action="create", obj=source, brand=brand, new=_audited(source))
    except IntegrityError:
        raise ServiceError(f"code: {brand.code} already has a source {values['code']!r}", field="code") from None
    return source


def update_source(source: UsageSource, *, actor: Actor, at: dt.datetime, **changes) -> UsageSource:
    """Change a source's fields (any of SOURCE_FIELDS); an archive or error folder given empty goes
    back to the default. A `password` or `private_key` given non-empty replaces the sealed
    credentials (both are replaced together: an empty one is dropped); given empty, they stay."""
    unknown = set(changes) - set(SOURCE_FIELDS) - set(SECRET_FIELDS)
    if unknown:
        raise ServiceError(f"{sorted(unknown)[0]}: not a field of a source", field=sorted(unknown)[0])
    _may_change(actor, source.brand)
    old = _audited(source)
    values = _clean({**snapshot(source, SOURCE_FIELDS), **{k: v for k, v in changes.items() if k in SOURCE_FIELDS}})
    password, private_key = _credentials(changes)
    if UsageSource.objects.filter(brand=source.brand, code__iexact=values["code"]).exclude(pk=source.pk).exists():
        raise ServiceError(f"code: {source.brand.code} already has a source {values['code']!r}", field="code")
    with transaction.atomic():
        for name, value in values.items():
            setattr(source, name, value)
        replaced = ""
        if not source.is_sftp:
            source.sftp_secret = None
        elif password or private_key:
            _seal_credentials(source, password, private_key)
            replaced = "changed"
        source.save()
        record_event(actor=actor, at=at, action="update", obj=source, brand=source.brand, old=old,
                     new=_audited(source, replaced))
    return source


def delete_source(source: UsageSource, *, actor: Actor, at: dt.datetime) -> None:
    """Remove a source; its folders and files stay where they are, files taken in stay taken in."""
    _may_change(actor, source.brand)
    with transaction.atomic():
        record_event(actor=actor, at=at, action="delete", obj=source, brand=source.brand, old=_audited(source))
        source.delete()
