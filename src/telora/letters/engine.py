"""Pure code of the letters module (no Django): the template environment and its placeholder check,
trigger conditions, and how an SMS is encoded and split.

Templates render in core's BoundedSandbox (autoescaped, no Python internals, bounded loops, output
and numbers; telora.core.sandbox). Every name a template reads must be one of `VARIABLES`: a
misspelt placeholder is refused when the template is saved, with its line, instead of printing an
empty string to a customer later (StrictUndefined also stops a render that meets one).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_currency, is_currency
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.meta import find_undeclared_variables

from telora.core.sandbox import BoundedSandbox, TemplateLimitError, line_of, refused_construct
from telora.core.sandbox.checks import external_reference

# What a template may read: variable -> its fields (None: a free mapping, e.g. the event's payload).
VARIABLES: dict[str, frozenset | None] = {
    "brand": frozenset({"name", "code", "language"}),
    "customer": frozenset({"number", "name", "first_name", "last_name", "company_name", "email", "phone",
                           "language"}),
    "address": frozenset({"lines", "name"}),
    "account": frozenset({"number", "name"}),
    "subscription": frozenset({"identifier", "service_type", "plan"}),
    "invoice": frozenset({"number", "total", "currency", "issue_date", "due_date", "period_start", "period_end"}),
    "balance": frozenset({"amount", "threshold", "currency"}),
    "event": frozenset({"type", "at", "payload"}),
    "today": frozenset(),
}
FREE = {("event", "payload")}  # fields whose own keys are not checked (a payload differs per event type)
MAX_TEXT = 100_000  # characters of one template part
MAX_SMS_PARTS = 10


class Payload(dict):
    """An event's payload: its keys differ per event type, so a key this event lacks reads as ""."""

    def __missing__(self, key):
        return ""


class LetterTemplateError(ValueError):
    """A template that does not compile, reads an unknown placeholder, or fails on its data; `part`
    ("subject", "text", "html") and `line` say where."""

    def __init__(self, message: str, *, part: str = "", line: int | None = None):
        super().__init__(message)
        self.part = part
        self.line = line

    def __reduce__(self):
        return type(self), (self.args[0],), {"part": self.part, "line": self.line}

    @property
    def where(self) -> str:
        bits = [self.part] if self.part else []
        if self.line:
            bits.append(f"line {self.line}")
        return ", ".join(bits)

    def __str__(self) -> str:
        message = super().__str__()
        return f"{self.where}: {message}" if self.where else message


def _money(value, currency="EUR", locale="en"):
    if value in (None, ""):
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise LetterTemplateError(f"money: {value!r} is not an amount") from None
    if not is_currency(str(currency)):
        raise LetterTemplateError(f"money: {currency!r} is not an ISO 4217 currency code")
    return format_currency(amount, str(currency), locale=locale)


def _date(value, locale="en", format="medium"):
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    return format_date(value, format=format, locale=locale)


@lru_cache(maxsize=1)
def environment() -> BoundedSandbox:
    env = BoundedSandbox(undefined=StrictUndefined, autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(money=_money, date=_date)
    return env


@lru_cache(maxsize=1)
def text_environment() -> BoundedSandbox:
    """Subjects, text parts and SMS are plain text: nothing to escape (and `&` must stay `&`)."""
    env = BoundedSandbox(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(money=_money, date=_date)
    return env


def _env(part: str) -> BoundedSandbox:
    return environment() if part == "html" else text_environment()


def _unknown_placeholder(tree) -> tuple[int, str] | None:
    """(line, message) of the first variable or field the template reads that no letter provides."""
    undeclared = find_undeclared_variables(tree)
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and node.name in undeclared and node.name not in VARIABLES:
            known = ", ".join(sorted(VARIABLES))
            return node.lineno, f"unknown placeholder {node.name!r} (a letter knows {known})"
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        root = node.node
        if not (isinstance(root, nodes.Name) and root.name in VARIABLES and root.name in undeclared):
            continue
        attr = node.attr if isinstance(node, nodes.Getattr) else (
            node.arg.value if isinstance(node.arg, nodes.Const) else None)
        fields = VARIABLES[root.name]
        if attr is None or fields is None or (root.name, attr) in FREE:
            continue
        if attr not in fields:
            known = ", ".join(sorted(fields)) or "no fields"
            return node.lineno, f"unknown placeholder {root.name}.{attr} ({root.name} has {known})"
    return None


def check_part(part: str, source: str) -> None:
    """Raise LetterTemplateError naming the part and line unless `source` compiles in the sandbox, reads
    only known placeholders, and (HTML) reaches nothing outside the document."""
    if len(source) > MAX_TEXT:
        raise LetterTemplateError(f"at most {MAX_TEXT:,} characters", part=part)
    env = _env(part)
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        raise LetterTemplateError(f"syntax error: {exc.message}", part=part, line=exc.lineno) from None
    except RecursionError:
        raise LetterTemplateError("the template nests too deeply to be read", part=part) from None
    found = [refused_construct(tree), _unknown_placeholder(tree)]
    if part == "html":
        found.append(external_reference(source))
    for hit in found:
        if hit is not None:
            raise LetterTemplateError(hit[1], part=part, line=hit[0])


@lru_cache(maxsize=256)
def _compiled(part: str, source: str):
    return _env(part).from_string(source)


def render_part(part: str, source: str, context: dict) -> str:
    """One part rendered with `context`; any failure is a LetterTemplateError with part and line."""
    if not source:
        return ""
    try:
        return _compiled(part, source).render(context)
    except LetterTemplateError as exc:
        exc.part = exc.part or part
        exc.line = exc.line or line_of(exc)
        raise
    except (TemplateError, ValueError, TypeError, ArithmeticError, LookupError) as exc:
        kind = "" if isinstance(exc, (TemplateLimitError, TemplateSyntaxError)) else f"{type(exc).__name__}: "
        raise LetterTemplateError(f"{kind}{exc}", part=part, line=line_of(exc)) from None


def render_letter(parts: dict, context: dict) -> dict:
    """{"subject", "text", "html"} rendered (missing parts empty); the subject on one line."""
    rendered = {name: render_part(name, parts.get(name) or "", context) for name in ("subject", "text", "html")}
    rendered["subject"] = " ".join(rendered["subject"].split())[:300]
    return rendered


def check_and_render(task: tuple) -> dict:
    """`task` = (parts, samples): every part checked, then rendered with each sample context; the
    first sample's result returned. Run in a bounded worker when a template is saved or previewed."""
    parts, samples = task
    for name in ("subject", "text", "html"):
        if parts.get(name):
            check_part(name, parts[name])
    result = {}
    for index, sample in enumerate(samples):
        rendered = render_letter(parts, sample)
        if index == 0:
            result = rendered
    return result


# -- trigger conditions -------------------------------------------------------------------------
def _compare(actual, op: str, expected) -> bool:
    if op == "exists":
        return actual not in (None, "")
    if op == "missing":
        return actual in (None, "")
    if op in ("in", "not_in"):
        values = {str(v) for v in (expected if isinstance(expected, (list, tuple)) else [expected])}
        return (str(actual) in values) == (op == "in")
    if op in ("eq", "ne"):
        return (str(actual) == str(expected)) == (op == "eq")
    try:
        left, right = Decimal(str(actual)), Decimal(str(expected))
    except (InvalidOperation, ValueError):
        return False
    return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[op]


def lookup(fields: dict, path: str):
    """`payload.balance` or `customer_group` in the event's flattened fields (None when absent)."""
    value = fields
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def conditions_hold(conditions: list[dict], fields: dict) -> bool:
    """Every condition ({"field", "op", "value"}) holds on `fields` (an empty list always holds)."""
    return all(_compare(lookup(fields, c["field"]), c["op"], c.get("value")) for c in conditions)


# -- SMS ----------------------------------------------------------------------------------------
GSM_BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
             "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENDED = {"^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E, "|": 0x40, "€": 0x65,
                "\f": 0x0A}
_GSM_INDEX = {char: index for index, char in enumerate(GSM_BASIC) if char != "\x1b"}


def is_gsm7(text: str) -> bool:
    return all(char in _GSM_INDEX or char in GSM_EXTENDED for char in text)


def gsm7_encode(text: str) -> bytes:
    """GSM 03.38 default alphabet, one byte per septet (unpacked, as SMPP carries it with data_coding 0)."""
    out = bytearray()
    for char in text:
        if char in _GSM_INDEX:
            out.append(_GSM_INDEX[char])
        else:
            out += bytes((0x1B, GSM_EXTENDED[char]))
    return bytes(out)


def gsm7_decode(data: bytes) -> str:
    reverse = {v: k for k, v in GSM_EXTENDED.items()}
    chars, escape = [], False
    for byte in data:
        if escape:
            chars.append(reverse.get(byte, " "))
            escape = False
        elif byte == 0x1B:
            escape = True
        else:
            chars.append(GSM_BASIC[byte] if byte < len(GSM_BASIC) else "?")
    return "".join(chars)


def sms_parts(text: str, reference: int = 0) -> tuple[int, list[bytes]]:
    """(data_coding, short_message payloads): GSM-7 when every character has one (data_coding 0),
    else UCS-2 (8); one part up to 160 septets / 70 characters, else parts of 153 / 67 with a
    concatenation UDH (IEI 0, reference, count, number). A GSM escape pair or a surrogate pair is
    never cut in two."""
    if is_gsm7(text):
        coding, single, size = 0, 160, 153
        units = [gsm7_encode(char) for char in text]
    else:
        coding, single, size = 8, 140, 134  # bytes: 70 or 67 UCS-2 code units
        units = [char.encode("utf-16-be") for char in text]
    whole = b"".join(units)
    if len(whole) <= single:
        return coding, [whole]
    chunks, current = [], b""
    for unit in units:
        if len(current) + len(unit) > size:
            chunks.append(current)
            current = b""
        current += unit
    chunks.append(current)
    if len(chunks) > MAX_SMS_PARTS:
        raise ValueError(f"text: {len(chunks)} SMS parts; at most {MAX_SMS_PARTS}")
    reference &= 0xFF
    return coding, [bytes((5, 0, 3, reference, len(chunks), n)) + chunk for n, chunk in enumerate(chunks, start=1)]


def render_task(task: tuple) -> dict:
    """`task` = (parts, context): `render_letter` as a task for a bounded worker process."""
    parts, context = task
    return render_letter(parts, context)


def render_many_task(tasks: list) -> list:
    """Many (parts, context) rendered in one round trip to a bounded worker: each answer the rendered
    parts, or the LetterTemplateError of that letter (the others go on)."""
    answers: list = []
    for parts, context in tasks:
        try:
            answers.append(render_letter(parts, context))
        except LetterTemplateError as exc:
            answers.append(exc)
    return answers
