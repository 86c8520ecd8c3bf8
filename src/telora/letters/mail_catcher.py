"""The demo's mail catcher: a real SMTP server (aiosmtpd) that accepts every message and keeps it
as an `.eml` file in a folder instead of delivering it, and the reading side the GUI uses to show
what the mail server received for a letter (matched by the letter's Message-ID).

`telora mail-catcher --port 8025 --dir var/mail-catcher` runs it (`telora demo` starts it beside the
server and sets TELORA_MAIL_CATCHER_DIR so a letter's page finds its caught copy). It is for
demos and trials only: it listens on 127.0.0.1 by default and relays nothing.
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

MAX_MESSAGE = 25 * 1024 * 1024  # bytes the catcher accepts in one message (SMTP SIZE)
KEEP = 2000  # messages kept in the folder; the oldest go first


class CatchingHandler:
    """aiosmtpd handler: each accepted message written atomically (temporary name, then renamed)."""

    def __init__(self, folder: Path, keep: int = KEEP):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.keep = keep

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's hook name)
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode()
        header = (f"X-Telora-Caught-From: {envelope.mail_from}\r\n"
                  f"X-Telora-Caught-To: {', '.join(envelope.rcpt_tos)}\r\n").encode()
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        temporary = self.folder / f".{name}.tmp"
        temporary.write_bytes(header + content)
        os.replace(temporary, self.folder / name)
        self._trim()
        return "250 Message caught"

    def _trim(self) -> None:
        caught = sorted(self.folder.glob("*.eml"))
        for old in caught[:max(0, len(caught) - self.keep)]:
            old.unlink(missing_ok=True)


def start(host: str, port: int, folder: Path):
    """A running controller (its own thread); `.stop()` ends it."""
    from aiosmtpd.controller import Controller

    controller = Controller(CatchingHandler(folder), hostname=host, port=port, data_size_limit=MAX_MESSAGE)
    controller.start()
    return controller


# -- the reading side (GUI) -----------------------------------------------------------------------
@dataclass
class CaughtPart:
    content_type: str
    filename: str
    size: int
    text: str = ""  # text parts only


@dataclass
class CaughtMail:
    name: str
    received_at: float
    envelope_from: str
    envelope_to: str
    headers: list[tuple[str, str]]
    parts: list[CaughtPart] = field(default_factory=list)


SHOWN_HEADERS = ("From", "To", "Subject", "Date", "Message-ID")
_NAME = re.compile(r"^\d+-[0-9a-f]{8}\.eml$")


def folder() -> Path | None:
    from django.conf import settings

    value = getattr(settings, "TELORA_MAIL_CATCHER_DIR", None)
    return Path(value) if value else None


def find(message_id: str, limit: int = KEEP) -> CaughtMail | None:
    """The newest caught message with this Message-ID (None without a catcher or a match). The ID is
    compared as a whole header value; only the headers of the newest `limit` files are read."""
    where = folder()
    if not message_id or where is None or not where.is_dir():
        return None
    for path in sorted(where.glob("*.eml"), reverse=True)[:limit]:
        if not _NAME.match(path.name):
            continue
        try:
            with path.open("rb") as handle:
                headers = email.parser.BytesHeaderParser(policy=email.policy.default).parse(handle)
        except OSError:
            continue
        if (headers.get("Message-ID") or "").strip() == message_id:
            return read(path)
    return None


def read(path: Path) -> CaughtMail:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    parts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename() or ""
        text = ""
        if part.get_content_maintype() == "text" and not filename:
            text = part.get_content().replace("\r\n", "\n")[:20000]
        parts.append(CaughtPart(part.get_content_type(), filename, len(payload), text))
    return CaughtMail(name=path.name, received_at=path.stat().st_mtime,
                      envelope_from=str(message.get("X-Telora-Caught-From", "")),
                      envelope_to=str(message.get("X-Telora-Caught-To", "")),
                      headers=[(h, str(message.get(h, ""))) for h in SHOWN_HEADERS if message.get(h)],
                      parts=parts)
