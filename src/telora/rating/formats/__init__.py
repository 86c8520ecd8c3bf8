"""Usage-record formats: one small parser module each, behind one registry.

    from telora.rating import formats
    for item in formats.parse_path("csv", "cdrs.csv"):
        ...  # UsageRecord, ParseFailure (line, reason, text) or Ignored (not usage)

A parser is a generator over an open stream (text for CSV formats, bytes for binary ones), so a
file of any size streams through in constant memory. Options a format does not know are ignored:
`timezone` (PBX local times: Asterisk, FreeSWITCH), `country_code` (national numbers in BER).
A format's module is imported on first use: the ASN.1 modules are large and CSV work never needs
them. `register` adds a format (a plug-in for a switch not listed here).
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from telora.rating.engine.records import Ignored, ParseFailure, UsageRecord
from telora.rating.formats.common import Split as Split  # what a splitting format returns

Outcome = UsageRecord | ParseFailure | Ignored


@dataclass(frozen=True)
class Format:
    name: str
    title: str
    binary: bool  # read as bytes (else text, UTF-8)
    module: str  # the module with `parse(stream, **options)`
    options: tuple[str, ...] = ()
    splits: bool = False  # the module has `split(binary stream)`: raw records routed, read by the worker
    charges: bool = False  # its records may carry a charge and balance after (what a pre-rated source sends)

    @property
    def parser(self) -> Callable[..., Iterator[Outcome]]:
        return importlib.import_module(self.module).parse

    @property
    def splitter(self) -> Callable | None:
        return importlib.import_module(self.module).split if self.splits else None


_REGISTRY: dict[str, Format] = {}


def register(fmt: Format) -> None:
    """Add or replace a format by name."""
    _REGISTRY[fmt.name] = fmt


def get(name: str) -> Format:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown usage format {name!r} (known: {', '.join(names())})") from None


def names() -> list[str]:
    return sorted(_REGISTRY)


def parse(name: str, stream: IO, **options) -> Iterator[Outcome]:
    """Outcomes from an open stream: text (newline='') for text formats, bytes for binary ones."""
    return get(name).parser(stream, **options)


def parse_path(name: str, path: str | Path, **options) -> Iterator[Outcome]:
    """Outcomes from a file, opened the way its format needs and closed when the generator ends."""
    fmt = get(name)
    mode = {"mode": "rb"} if fmt.binary else {"mode": "r", "encoding": "utf-8", "newline": "", "errors": "replace"}
    with open(path, **mode) as stream:
        yield from fmt.parser(stream, **options)


def parse_bytes(name: str, data: bytes, **options) -> Iterator[Outcome]:
    """Outcomes from an uploaded file's content."""
    fmt = get(name)
    if fmt.binary:
        return fmt.parser(io.BytesIO(data), **options)
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace", newline="")
    return fmt.parser(text, **options)


register(Format("csv", "Canonical usage CSV", False, "telora.rating.formats.canonical", splits=True, charges=True))
register(Format("asterisk", "Asterisk cdr_csv Master.csv", False, "telora.rating.formats.asterisk", ("timezone",)))
register(Format("freeswitch", "FreeSWITCH mod_cdr_csv (default template)", False, "telora.rating.formats.freeswitch",
                ("timezone",)))
register(Format("ber", "3GPP TS 32.298 ASN.1 BER (PGW-CDR, MSC MOC/MTC, SMS)", True, "telora.rating.formats.ber",
                ("country_code", "decoder", "container")))
