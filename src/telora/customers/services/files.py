"""Files kept with a customer: checked for size and type, fingerprinted, stored under MEDIA_ROOT.

Stored at `customers/<brand code>/<customer id>/<random>-<name>`. The file's bytes must match the
content type it claims (a PDF starts with %PDF, a PNG with its signature...), so a renamed
executable is refused as clearly as an oversized scan. Never serve MEDIA_ROOT/customers as static
files: downloads go through `selectors.open_customer_file`, which checks rights.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from telora.core.services.actors import Actor
from telora.core.services.audit import record_event, snapshot
from telora.customers.constants import FILE_CONTENT_TYPES, FILE_MAX_BYTES
from telora.customers.models import Customer, CustomerFile
from telora.customers.services.common import fail, require

FILE_FIELDS = ["customer", "name", "description", "content_type", "size", "sha256"]
SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.oasis.opendocument.text": (b"PK\x03\x04",),
}
TEXT_TYPES = ("text/plain", "text/csv")


def max_bytes() -> int:
    return int(getattr(settings, "TELORA_CUSTOMER_FILE_MAX_BYTES", FILE_MAX_BYTES))


def _human(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def _read(file, limit: int) -> bytes:
    """All bytes of an upload, bytes or file object, refusing once past `limit` (never reads much more)."""
    if isinstance(file, bytes | bytearray):
        content, total = bytes(file), len(file)
    else:
        if hasattr(file, "seek"):
            file.seek(0)
        chunks, total = [], 0
        reader = file.chunks() if hasattr(file, "chunks") else iter(lambda: file.read(64 * 1024), b"")
        for chunk in reader:
            total += len(chunk)
            if total > limit:
                break
            chunks.append(chunk)
        content = b"".join(chunks)
    if total > limit:
        raise fail("file", f"is larger than the limit of {_human(limit)}", code="too_large")
    return content


def _check_type(content_type: str, content: bytes) -> str:
    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type not in FILE_CONTENT_TYPES:
        allowed = ", ".join(sorted(set(FILE_CONTENT_TYPES.values())))
        raise fail("content_type", f"{content_type or 'an unknown type'} is not accepted; upload one of: {allowed}",
                   code="content_type")
    signatures = SIGNATURES.get(content_type)
    if signatures and not content.startswith(signatures):
        raise fail("file", f"does not look like a {FILE_CONTENT_TYPES[content_type]}: its content does not match "
                           f"the type {content_type}", code="content_type")
    if content_type in TEXT_TYPES:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            raise fail("file", "is not UTF-8 text", code="content_type") from None
        if b"\x00" in content:
            raise fail("file", "is not text (it holds NUL bytes)", code="content_type")
    return content_type


@transaction.atomic
def upload_customer_file(customer: Customer, file, *, actor: Actor, at: dt.datetime, name: str | None = None,
                         content_type: str | None = None, description: str = "") -> CustomerFile:
    """Keep `file` (an UploadedFile, an open binary file or bytes) with the customer.

    `content_type` defaults to what the upload declares. Refused: empty files, files over the
    limit (settings.TELORA_CUSTOMER_FILE_MAX_BYTES, 10 MB), types outside the allow-list, and
    content that does not match its declared type.
    """
    require(actor, customer.brand)
    name = PurePath(name or getattr(file, "name", "") or "").name.strip()
    if not name:
        raise fail("name", "give the file a name")
    content = _read(file, max_bytes())
    if not content:
        raise fail("file", "is empty")
    content_type = _check_type(content_type or getattr(file, "content_type", "") or "", content)
    if len(description) > 300:
        raise fail("description", "is longer than 300 characters")
    row = CustomerFile(brand=customer.brand, customer=customer, name=name[:200], description=description.strip(),
                       content_type=content_type, size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                       uploaded_by=actor.user, uploaded_by_label=actor.label[:200], uploaded_at=at)
    row.file.save(name, ContentFile(content), save=False)
    storage, path = row.file.storage, row.file.name
    try:
        row.save()
        record_event(actor=actor, at=at, action="upload", obj=row, brand=customer.brand,
                     new={**snapshot(row, FILE_FIELDS), "path": path})
    except Exception:
        storage.delete(path)
        raise
    return row


@transaction.atomic
def delete_customer_file(row: CustomerFile, *, actor: Actor, at: dt.datetime, reason: str = "") -> None:
    """Forget a file; its bytes leave the disk once the transaction commits."""
    require(actor, row.brand)
    storage, path = row.file.storage, row.file.name
    record_event(actor=actor, at=at, action="delete", obj=row, brand=row.brand, old=snapshot(row, FILE_FIELDS),
                 message=reason)
    row.delete()
    transaction.on_commit(lambda: storage.delete(path))
