"""Reading and writing catalogue YAML exactly.

The loader follows YAML 1.2's core schema for plain scalars: only true/false are booleans (so
a country code NO stays the text "NO"), 18:00 is text rather than a base-60 number, dates stay
text, and a key given twice in one mapping is an error instead of silently winning.

The writer is ours, not yaml.dump, so an export is stable byte for byte and reads like the
hand-written reference: block mappings, one rate per line, amounts in double quotes.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import lru_cache

import yaml
from yaml.constructor import ConstructorError


class CatalogLoader(yaml.SafeLoader):
    yaml_implicit_resolvers: dict = {}

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:
                raise ConstructorError(None, None, "a key must be text", key_node.start_mark) from None
            if duplicate:
                raise ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)

    def construct_yaml_int(self, node):
        text = self.construct_scalar(node)
        if text.startswith(("0x", "0o")):
            return int(text[2:], 16 if text[1] == "x" else 8)
        return int(text, 10)


CatalogLoader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"),
                                    ["~", "n", "N", ""])
CatalogLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                    list("tTfF"))
CatalogLoader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
                                    list("-+0123456789"))
CatalogLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)
CatalogLoader.add_constructor("tag:yaml.org,2002:int", CatalogLoader.construct_yaml_int)


class YamlError(ValueError):
    """The text is not YAML; the message says where."""


def load(text: str):
    try:
        return yaml.load(text, Loader=CatalogLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise YamlError(f"{where}{exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlError(str(exc)) from None


# ---- writing ------------------------------------------------------------------------------


class Quoted(str):
    """Text always written in double quotes (amounts, times, prefixes)."""


class Flow(dict):
    """A mapping written on one line: {service: voice, zone: DK, ...}."""


PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _./()+&'-]*")


@lru_cache(maxsize=4096)
def _plain_ok(text: str) -> bool:
    if not PLAIN.fullmatch(text) or text.endswith(" "):
        return False
    return yaml.safe_load(text) == text and load(text) == text


def _quoted(text: str) -> str:
    out = json.dumps(text, ensure_ascii=False)
    return out.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\x85", "\\u0085")


def scalar(value) -> str:
    if isinstance(value, Quoted):
        return _quoted(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return _quoted(str(value))
    text = str(value)
    return text if _plain_ok(text) else _quoted(text)


def flow(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def _inline(value) -> bool:
    if isinstance(value, Flow) or (isinstance(value, dict | list) and not value):
        return True
    return isinstance(value, list) and not any(isinstance(v, dict) for v in value)


def _mapping(data: dict, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for key, value in data.items():
        if _inline(value) or not isinstance(value, dict | list):
            lines.append(f"{pad}{scalar(key)}: {flow(value)}")
        elif isinstance(value, dict):
            lines.append(f"{pad}{scalar(key)}:")
            _mapping(value, indent + 2, lines)
        else:
            lines.append(f"{pad}{scalar(key)}:")
            _sequence(value, indent + 2, lines)


def _sequence(items: list, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for item in items:
        if isinstance(item, dict) and not _inline(item):
            sub: list[str] = []
            _mapping(item, indent + 2, sub)
            sub[0] = f"{pad}- {sub[0][indent + 2:]}"
            lines.extend(sub)
        else:
            lines.append(f"{pad}- {flow(item)}")


def dump(document: dict, header: list[str] = ()) -> str:
    """Top-level keys in order, a blank line between them, a trailing newline."""
    lines = [f"# {line}" if line else "#" for line in header]
    for index, (key, value) in enumerate(document.items()):
        if index:
            lines.append("")
        _mapping({key: value}, 0, lines)
    return "\n".join(lines) + "\n"
