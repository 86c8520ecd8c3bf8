"""What a user-edited template may not contain, found before anything runs, each with its line.

`refused_construct(tree)` runs whenever the bounded sandbox compiles a template (at save and before
every render): Python internals (`__class__`, `mro`, ...), `|safe` and `{% autoescape false %}`
(autoescaping is what keeps document text from injecting markup), and macros or blocks that call
themselves, directly or through others. `external_reference(source)` is the save-time check for
HTML and CSS that would fetch something (`url(http://...)`, `<img src="file:///...">`, `@import`):
only `data:` URIs are allowed, and the PDF renderer's fetcher refuses the rest at render anyway.
"""

from __future__ import annotations

import re

from jinja2 import nodes

# Attribute names the sandbox refuses at run time; refused here before anything runs.
INTERNALS = {"mro", "func_globals", "func_code", "gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame",
             "ag_code", "f_globals", "f_locals", "f_back", "f_builtins", "tb_frame", "co_code"}

_URL = re.compile(r"url\(\s*(['\"]?)\s*([^)'\"]*)", re.I)
_IMPORT = re.compile(r"@import\b", re.I)
_TAG = re.compile(r"<([a-zA-Z][\w:-]*)\b([^<>]*)>")
_ATTR = re.compile(r"(?<![\w:-])(src|srcset|href|xlink:href|data|poster|background|action|formaction)\s*=\s*"
                   r"(?:\"([^\"]*)\"|'([^']*)'|([^\s>]*))", re.I)
_ALLOWED = ("data:", "#", "{{", "{%")


def internal_name(node) -> str | None:
    name = None
    if isinstance(node, nodes.Getattr):
        name = node.attr
    elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        name = node.arg.value
    elif isinstance(node, nodes.Filter) and node.name == "attr" and node.args and isinstance(node.args[0], nodes.Const):
        name = node.args[0].value
    elif isinstance(node, nodes.Name):
        name = node.name
    if isinstance(name, str) and (name.startswith("_") or name in INTERNALS):
        return name
    return None


def _escaping_off(node) -> bool:
    for keyword in node.options:
        if keyword.key == "autoescape" and not (isinstance(keyword.value, nodes.Const) and keyword.value.value):
            return True
    return False


def _callee(call: nodes.Call, macros: set) -> tuple[str, str] | None:
    target = call.node
    if isinstance(target, nodes.Name) and target.name in macros:
        return ("macro", target.name)
    if isinstance(target, nodes.Getattr) and isinstance(target.node, nodes.Name) and target.node.name == "self":
        return ("block", target.attr)
    return None


def _recursion(tree) -> tuple[int, str] | None:
    """The first call that closes a cycle of macros/blocks calling each other, as (line, message)."""
    macros = {m.name: m for m in tree.find_all(nodes.Macro)}
    blocks = {b.name: b for b in tree.find_all(nodes.Block)}
    calls: dict[tuple[str, str], list[tuple[tuple[str, str], int]]] = {}
    for kind, defs in (("macro", macros), ("block", blocks)):
        for name, node in defs.items():
            found = calls.setdefault((kind, name), [])
            for call in node.find_all(nodes.Call):
                callee = _callee(call, set(macros))
                if callee is not None:
                    found.append((callee, call.lineno))
    for block in tree.find_all(nodes.CallBlock):  # {% call m() %}body{% endcall %}: body runs inside m
        callee = _callee(block.call, set(macros))
        if callee is not None:
            body_calls = [c for n in block.body for c in n.find_all(nodes.Call)]
            calls.setdefault(callee, []).extend(
                (target, c.lineno) for c in body_calls if (target := _callee(c, set(macros))) is not None)
    for start in calls:
        found = _cycle(start, calls)
        if found is not None:
            line, path = found
            kind, name = start
            via = f" (through {', '.join(repr(n) for _k, n in path[1:])})" if len(path) > 1 else ""
            return line, f"{kind} {name!r} calls itself{via}; templates may not recurse"
    return None


def _cycle(start, calls: dict) -> tuple[int, list] | None:
    """(line of the call back to `start`, the definitions on the way) if `start` reaches itself."""
    path: list = []
    seen: set = set()

    def visit(node):
        if node in seen:
            return None
        seen.add(node)
        path.append(node)
        for callee, line in calls.get(node, []):
            if callee == start:
                return line
            hit = visit(callee)
            if hit is not None:
                return hit
        path.pop()
        return None

    line = visit(start)
    return None if line is None else (line, path)


def refused_construct(tree) -> tuple[int | None, str] | None:
    """(line, message) of the first thing in the parsed template the sandbox refuses, else None."""
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter, nodes.Name)):
        name = internal_name(node)
        if name is not None:
            return node.lineno, (f"{name!r} reaches Python internals; templates may only read the variables "
                                 "they are given")
        if isinstance(node, nodes.Filter) and node.name == "safe":
            return node.lineno, "'|safe' is not allowed: text is always escaped (autoescaping is the guarantee)"
    for node in tree.find_all((nodes.ScopedEvalContextModifier, nodes.EvalContextModifier)):
        if _escaping_off(node):
            return node.lineno, "autoescaping cannot be turned off: text is always escaped"
    return _recursion(tree)


def _line(source: str, offset: int) -> int:
    return source.count("\n", 0, offset) + 1


def _reaches_out(value: str) -> bool:
    value = value.strip()
    return bool(value) and not value.lower().startswith(_ALLOWED)


def external_reference(source: str) -> tuple[int, str] | None:
    """(line, message) of the first reference in the template's HTML or CSS to anything but a
    `data:` URI (`url(...)`, `@import`, `src=`, `href=` of anything but a link), else None. A link
    (`<a href="https://...">`) is allowed: it is printed, never fetched; `file:` is refused there too."""
    for match in _URL.finditer(source):
        if _reaches_out(match.group(2)):
            return _line(source, match.start()), (f"url({match.group(2).strip()[:60]}) reaches outside the "
                                                  "document; only data: URIs are allowed")
    for match in _IMPORT.finditer(source):
        return _line(source, match.start()), "@import is not allowed: a template fetches no stylesheets"
    for tag in _TAG.finditer(source):
        for attr in _ATTR.finditer(tag.group(2)):
            name = attr.group(1).lower()
            value = next((v for v in attr.group(2, 3, 4) if v is not None), "")
            if tag.group(1).lower() == "a" and name == "href" and not value.strip().lower().startswith("file:"):
                continue
            if _reaches_out(value):
                return _line(source, tag.start() + attr.start()), (
                    f'{name}="{value.strip()[:60]}" reaches outside the document; only data: URIs are allowed')
    return None


__all__ = ["INTERNALS", "external_reference", "internal_name", "refused_construct"]
