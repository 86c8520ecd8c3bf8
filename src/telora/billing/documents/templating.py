"""Invoice HTML from a document through the bounded sandbox, so operators can edit the template safely.

The environment is core's BoundedSandbox (Jinja2's ImmutableSandboxedEnvironment with autoescape on
and bounds on what one render may cost, telora.core.sandbox): a template reads the document and
calls the filters below, but cannot reach Python internals (`__class__`, `__globals__`, ...),
change the data it is given, print unescaped markup (`|safe` is refused), recurse, or run without
end. Templates extend or replace the default one, `billing/invoice/invoice.html.j2`, shipped in
this app. Renders of a brand's template run in bounded worker processes (pdf.py).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent, get_currency_precision, is_currency
from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateSyntaxError, pass_context

from telora.billing.documents.contract import check_document, decimal
from telora.billing.documents.labels import EN, document_language, labels_for
from telora.core.sandbox import (
    BoundedSandbox,
    TemplateLimitError,
    external_reference,
    line_of,
    refused_construct,
)

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates"
DEFAULT_TEMPLATE = "billing/invoice/invoice.html.j2"
DEFAULT_COLOURS = {"primary": "#206bc4", "secondary": "#1e293b"}
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
LOGO = re.compile(r"data:image/(png|jpeg|gif|svg\+xml|webp);base64,[A-Za-z0-9+/=\s]+")
MEGABYTE = 1024 * 1024
SECONDS = {"s", "sec", "second", "seconds"}
BYTES = {"b", "byte", "bytes"}

LABELS = EN  # the English labels; `labels_for(language)` gives the others (documents/labels.py)


class InvoiceTemplateError(ValueError):
    """An invoice template that does not compile, fails, or tries something the sandbox refuses;
    `line` is the line of the brand's template at fault when known (it survives pickling)."""

    field = "template"

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line

    def __reduce__(self):
        return type(self), (str(self), self.line)


def _locale(language) -> Locale:
    try:
        return Locale.parse(language or "en")
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("en")


def _as_date(value) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


@pass_context
def _money(ctx, value, currency=None):
    if value in (None, ""):
        return ""
    if currency is not None and not is_currency(str(currency)):
        raise InvoiceTemplateError(f"money: {currency!r} is not an ISO 4217 currency code")
    return format_currency(decimal(value, "amount"), currency or ctx["invoice"]["currency"], locale=ctx["locale"])


@pass_context
def _number(ctx, value):
    if value in (None, ""):
        return ""
    return format_decimal(decimal(value, "number"), locale=ctx["locale"], decimal_quantization=False)


@pass_context
def _price(ctx, value):
    """A unit price: the currency's decimals at least, up to the 6 a rated price may keep (3.193548)."""
    if value in (None, ""):
        return ""
    places = get_currency_precision(ctx["invoice"]["currency"])
    pattern = "#,##0" + ("." + "0" * places + "#" * (6 - places) if places < 6 else "." + "0" * places)
    return format_decimal(decimal(value, "unit_price"), format=pattern, locale=ctx["locale"],
                          decimal_quantization=False)


@pass_context
def _percent(ctx, rate):
    """A tax rate given in percent ("25", "25.000000") as the locale writes it ("25%")."""
    return format_percent(decimal(rate, "rate") / 100, locale=ctx["locale"], decimal_quantization=False)


@pass_context
def _date(ctx, value, format="medium"):
    day = _as_date(value)
    return format_date(day, format=format, locale=ctx["locale"]) if day else ""


@pass_context
def _last_day(ctx, value, format="medium"):
    """The last day of a half-open period [start, end): the day before `end` (1 Nov -> 31 Oct)."""
    day = _as_date(value)
    return format_date(day - dt.timedelta(days=1), format=format, locale=ctx["locale"]) if day else ""


@pass_context
def _usage_quantity(ctx, quantity, unit=""):
    """Seconds as h:mm:ss, bytes as MB (1,048,576 bytes, two decimals), anything else as a count."""
    amount = decimal(quantity, "quantity")
    unit_name = (unit or "").strip().lower()
    if unit_name in SECONDS:
        total = int(amount)
        return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"
    if unit_name in BYTES:
        mb = (amount / MEGABYTE).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return f"{format_decimal(mb, format='#,##0.00', locale=ctx['locale'])} MB"
    text = format_decimal(amount, locale=ctx["locale"], decimal_quantization=False)
    return f"{text} {unit}".strip()


@pass_context
def _country(ctx, code):
    return Locale.parse(ctx["locale"]).territories.get(code, code) if code else ""


@lru_cache(maxsize=1)
def environment() -> BoundedSandbox:
    env = BoundedSandbox(
        loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=True, undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters.update(money=_money, number=_number, price=_price, percent=_percent, date=_date, last_day=_last_day,
                       usage_quantity=_usage_quantity, country=_country)
    return env


@lru_cache(maxsize=16)
def _compiled(source: str | None):
    env = environment()
    return env.get_template(DEFAULT_TEMPLATE) if source is None else env.from_string(source)


def context(document: dict, brand_assets: dict | None = None) -> dict:
    """The variables a template sees (documented in docs/billing.md, Outputs)."""
    brand = dict(document["brand"])
    brand["language"] = str(_locale(document_language(document)))  # the invoice's: customer's, else brand's
    labels = labels_for(brand["language"])
    colours = dict(DEFAULT_COLOURS)
    for key, value in (brand.get("colours") or {}).items():
        if key in colours and isinstance(value, str) and COLOUR.fullmatch(value):
            colours[key] = value
    brand["colours"] = colours
    logo = (brand_assets or {}).get("logo") or None
    if logo is not None and not (isinstance(logo, str) and LOGO.fullmatch(logo)):
        raise InvoiceTemplateError("brand_assets.logo: the logo is given as a data: URI of an image "
                                   "(data:image/png;base64,...)")
    brand["logo"] = logo
    invoice = document["invoice"]
    credit = invoice["kind"] == "credit_note"
    title = labels[("draft_" if invoice["draft"] else "") + ("credit_note" if credit else "invoice")]
    return {
        "brand": brand,
        "invoice": invoice,
        "customer": document["customer"],
        "account": document["account"],
        "address": document["address"],
        "sections": document["sections"],
        "taxes": document["taxes"],
        "is_credit_note": credit,
        "is_draft": invoice["draft"],
        "title": title,
        "labels": labels,
        "locale": brand["language"],
    }


def render_html(document: dict, *, template: str | None = None, brand_assets: dict | None = None) -> str:
    """The invoice as HTML: the default template, or `template` (Jinja2 source an operator wrote)."""
    check_document(document)
    try:
        return _compiled(template).render(context(document, brand_assets))
    except InvoiceTemplateError as exc:
        if exc.line is None:
            exc.line = line_of(exc)
        raise
    except (TemplateError, ValueError, TypeError, ArithmeticError, LookupError) as exc:  # SecurityError and
        # TemplateLimitError are TemplateErrors
        kind = "" if isinstance(exc, (TemplateLimitError, TemplateSyntaxError)) else f"{type(exc).__name__}: "
        raise InvoiceTemplateError(f"template: {kind}{exc}", line_of(exc)) from exc


def _sample_kind(document: dict) -> str:
    return document["invoice"]["kind"].replace("_", " ") + (" (draft)" if document["invoice"]["draft"] else "")


def check_source(task: tuple) -> None:
    """Raise InvoiceTemplateError naming the line unless `source` is safe and renders each sample.

    `task` is (source, documents, brand_assets). Run in a bounded worker (pdf.check_bounded): even
    parsing a hostile text may cost, and the samples' renders are bounded like any other.
    """
    source, documents, brand_assets = task
    env = environment()
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        raise InvoiceTemplateError(f"syntax error: {exc.message}", exc.lineno) from None
    except RecursionError:
        raise InvoiceTemplateError("the template nests too deeply to be read") from None
    for found in (refused_construct(tree), external_reference(source)):
        if found is not None:
            raise InvoiceTemplateError(found[1], found[0])
    for document in documents:
        try:
            render_html(document, template=source, brand_assets=brand_assets)
        except InvoiceTemplateError as exc:
            message = str(exc).removeprefix("template: ")
            raise InvoiceTemplateError(f"{message} (rendering the sample {_sample_kind(document)})", exc.line) from None
