"""Sequencing: which network steps one order operation becomes, in which order, for which lines.

A brand's sequencing (per network target) is a document a product manager reads and reviews like the
catalogue: for each order-level operation (activate, change_services, suspend, resume, sim_swap,
number_change, terminate) the ordered steps sent to the network, each with the network operation it
sends, the services it sets, the line's services it needs (`when`) or must not have (`unless`), and the
steps it comes after (`after`). docs/provisioning.md ("Sequencing") describes the format.

This module is pure (no Django): cleaning a document (every error with its path and YAML line),
expanding an operation for a line's services into the ordered steps, writing the YAML back, and the
difference between two documents (what an apply would change).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from telora.catalog import yamlio

NETWORK_OPERATIONS = ("create", "change_services", "bar", "unbar", "sim_swap", "number_change", "delete")
ORDER_OPERATIONS = ("activate", "change_services", "suspend", "resume", "sim_swap", "number_change", "terminate")
# without a sequencing, an order operation is the one network request it always was
SINGLE_STEP = {"activate": "create", "change_services": "change_services", "suspend": "bar", "resume": "unbar",
               "sim_swap": "sim_swap", "number_change": "number_change", "terminate": "delete"}
SERVICE_TYPES = ("mobile_prepaid", "mobile_postpaid", "fixed_line", "broadband", "voip", "fiber", "tv", "content")
NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_STEPS = 30  # per operation: a sequencing is read by people, and every step is a request on the wire
MAX_SERVICES = 40
TOP_KEYS = ("target", "service_types", "operations")
STEP_KEYS = ("step", "do", "description", "services", "when", "unless", "after")
DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "sequencing.yaml"
HEADER = ["Provisioning sequencing: the network steps of each order operation (docs/provisioning.md, Sequencing).",
          "A step runs only for a line with every service in `when` and none in `unless`; `after` names the",
          "steps of the same operation it waits for. One line's steps run one at a time, in this order."]


class SequencingError(ValueError):
    """The document is refused; `errors` holds every (where, reason): where is the path, with its line."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = list(errors)
        super().__init__("; ".join(self.lines()))

    def lines(self) -> list[str]:
        return [f"{where}: {reason}" if where else reason for where, reason in self.errors]


@dataclass(frozen=True)
class Step:
    """One network request of an expanded operation."""

    name: str
    operation: str  # the network operation sent
    services: dict = field(default_factory=dict)  # what a change_services step sets (name -> on/off)
    after: tuple[str, ...] = ()
    description: str = ""


# --- reading ----------------------------------------------------------------------------------------------

def load_text(text: str) -> dict:
    """Parse and clean a YAML text; SequencingError naming each fault's path and line."""
    try:
        data = yamlio.load(text)
    except yamlio.YamlError as exc:
        raise SequencingError([("", f"not valid YAML: {exc}")]) from None
    return clean(data, lines=_line_numbers(text))


def _line_numbers(text: str) -> dict[str, int]:
    """path -> the line (1-based) where the value at that path starts, for the error messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    found: dict[str, int] = {}

    def walk(node, path: str) -> None:
        found.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                sub = f"{path}.{key.value}" if path else str(key.value)
                found[sub] = key.start_mark.line + 1
                walk(value, sub)
        elif isinstance(node, yaml.SequenceNode):
            for index, value in enumerate(node.value):
                walk(value, f"{path}[{index}]")

    if root is not None:
        walk(root, "")
    return found


def clean(data, *, lines: dict[str, int] | None = None) -> dict:
    """The canonical document (keys in order, defaults filled) or SequencingError with every fault."""
    lines = lines or {}
    errors: list[tuple[str, str]] = []

    def fault(path: str, reason: str) -> None:
        line = lines.get(path) or lines.get(path.rsplit(".", 1)[0].rsplit("[", 1)[0])
        errors.append((f"{path} (line {line})" if line else path, reason))

    if not isinstance(data, dict):
        raise SequencingError([("", "expected a mapping with `operations`")])
    for key in data:
        if key not in TOP_KEYS:
            fault(str(key), f"unknown key (known: {', '.join(TOP_KEYS)})")
    target = data.get("target", "network")
    if not isinstance(target, str) or not re.fullmatch(r"[-a-zA-Z0-9_]{1,40}", target):
        fault("target", "a target code (letters, digits, - and _, up to 40)")
        target = "network"
    service_types = {}
    raw_types = data.get("service_types") or {}
    if not isinstance(raw_types, dict):
        fault("service_types", "expected a mapping: service type -> the services every such line has")
        raw_types = {}
    for kind, services in raw_types.items():
        path = f"service_types.{kind}"
        if kind not in SERVICE_TYPES:
            fault(path, f"unknown service type (known: {', '.join(SERVICE_TYPES)})")
            continue
        service_types[kind] = _names(services, path, fault)
    operations = {}
    raw_operations = data.get("operations")
    if not isinstance(raw_operations, dict) or not raw_operations:
        fault("operations", "required: a mapping of order operations to their steps")
        raw_operations = {}
    for operation, steps in raw_operations.items():
        path = f"operations.{operation}"
        if operation not in ORDER_OPERATIONS:
            fault(path, f"unknown operation (known: {', '.join(ORDER_OPERATIONS)})")
            continue
        operations[operation] = _steps(steps, path, fault)
    if errors:
        raise SequencingError(errors)
    ordered = {op: operations[op] for op in ORDER_OPERATIONS if op in operations}
    return {"target": target, "service_types": {k: service_types[k] for k in SERVICE_TYPES if k in service_types},
            "operations": ordered}


def _names(value, path: str, fault) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        fault(path, "expected a list of service names")
        return []
    names = []
    for index, name in enumerate(value):
        if not isinstance(name, str) or not NAME.match(name):
            fault(f"{path}[{index}]", "a service name: lower-case letters, digits and _, starting with a letter")
        elif name in names:
            fault(f"{path}[{index}]", f"{name!r} given twice")
        else:
            names.append(name)
    if len(names) > MAX_SERVICES:
        fault(path, f"at most {MAX_SERVICES} services")
    return names


def _steps(value, path: str, fault) -> list[dict]:
    if not isinstance(value, list) or not value:
        fault(path, "expected a list of steps (at least one)")
        return []
    if len(value) > MAX_STEPS:
        fault(path, f"at most {MAX_STEPS} steps")
        return []
    steps, names = [], set()
    for index, raw in enumerate(value):
        at = f"{path}[{index}]"
        if not isinstance(raw, dict):
            fault(at, "expected a step: a mapping with `step` and `do`")
            continue
        for key in raw:
            if key not in STEP_KEYS:
                fault(f"{at}.{key}", f"unknown key (known: {', '.join(STEP_KEYS)})")
        name = raw.get("step")
        if not isinstance(name, str) or not NAME.match(name):
            fault(f"{at}.step", "required: a step name (lower-case letters, digits and _, starting with a letter)")
            name = f"#{index}"
        elif name in names:
            fault(f"{at}.step", f"{name!r} is the name of an earlier step of {path.rsplit('.', 1)[1]}")
        names.add(name)
        do = raw.get("do")
        if do not in NETWORK_OPERATIONS:
            fault(f"{at}.do", f"required: the network operation sent (one of {', '.join(NETWORK_OPERATIONS)})")
        services = raw.get("services", {})
        if not isinstance(services, dict) or any(not isinstance(v, bool) for v in services.values()):
            fault(f"{at}.services", "a mapping of service names to true (enable) or false (remove)")
            services = {}
        else:
            _names(list(services), f"{at}.services", fault)
            if services and do != "change_services":
                fault(f"{at}.services", "only a change_services step sets services")
        description = raw.get("description", "")
        if not isinstance(description, str) or len(description) > 200:
            fault(f"{at}.description", "a text of up to 200 characters")
            description = ""
        services = dict(sorted(services.items(), key=lambda kv: str(kv[0])))  # one order, however written
        step = {"step": name, "do": do, "description": description.strip(), "services": services,
                "when": _names(raw.get("when", []), f"{at}.when", fault),
                "unless": _names(raw.get("unless", []), f"{at}.unless", fault),
                "after": []}
        after = raw.get("after", [])
        after = [after] if isinstance(after, str) else after
        if not isinstance(after, list):
            fault(f"{at}.after", "expected a list of step names")
            after = []
        for position, other in enumerate(after):
            if other == name:
                fault(f"{at}.after[{position}]", f"{name!r} cannot come after itself")
            elif not isinstance(other, str) or other in step["after"]:
                fault(f"{at}.after[{position}]", "a step name, once")
            else:
                step["after"].append(other)
        steps.append(step)
    known = {s["step"] for s in steps}
    for index, step in enumerate(steps):
        for position, other in enumerate(step["after"]):
            if other not in known:
                fault(f"{path}[{index}].after[{position}]", f"unknown step {other!r} (steps of this operation: "
                                                            f"{', '.join(sorted(known))})")
    cycle = _cycle(steps)
    if cycle:
        fault(path, "the steps wait for each other in a circle: " + " -> ".join(cycle))
    return steps


def _cycle(steps: list[dict]) -> list[str]:
    """A dependency circle among the steps (names, the first repeated at the end), or []."""
    after = {s["step"]: [a for a in s["after"] if a != s["step"]] for s in steps}
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(name: str) -> list[str]:
        state[name] = 1
        trail.append(name)
        for other in after.get(name, ()):
            if state.get(other) == 1:
                return trail[trail.index(other):] + [other]
            if other in after and not state.get(other):
                found = visit(other)
                if found:
                    return found
        trail.pop()
        state[name] = 2
        return []

    for name in after:
        if not state.get(name):
            found = visit(name)
            if found:
                return found
    return []


# --- expanding --------------------------------------------------------------------------------------------

def line_services(document: dict | None, service_type: str, product_services) -> set[str]:
    """The services a line has: its service type's defaults (from the sequencing) and its products'."""
    services = set(product_services)
    if document:
        services.update(document.get("service_types", {}).get(service_type, ()))
    return services


def expand(document: dict | None, operation: str, services) -> list[Step]:
    """The ordered steps of `operation` for a line with `services`. Without a sequencing for the operation,
    the one request it always was. A step left out (its `when`/`unless` do not hold) is dropped from the
    others' `after`; the order is the listed order, moved only where a step must wait for a later one."""
    if operation not in ORDER_OPERATIONS:
        raise ValueError(f"operation: unknown order operation {operation!r}")
    steps = (document or {}).get("operations", {}).get(operation)
    if not steps:
        return [Step(name=SINGLE_STEP[operation], operation=SINGLE_STEP[operation])]
    services = set(services)
    chosen = [s for s in steps if set(s["when"]) <= services and not set(s["unless"]) & services]
    names = {s["step"] for s in chosen}
    pending = [dict(s, after=[a for a in s["after"] if a in names]) for s in chosen]
    ordered: list[Step] = []
    done: set[str] = set()
    while pending:  # a stable topological order (the document was checked for circles)
        ready = next(s for s in pending if set(s["after"]) <= done)
        pending.remove(ready)
        done.add(ready["step"])
        ordered.append(Step(name=ready["step"], operation=ready["do"], services=dict(ready["services"]),
                            after=tuple(ready["after"]), description=ready["description"]))
    return ordered


# --- writing and comparing --------------------------------------------------------------------------------

def to_yaml(document: dict) -> str:
    """The document as YAML, stable byte for byte (a default left out: an empty list, no description)."""
    operations = {}  # in the vocabulary's order (a stored document's keys come back in the database's order)
    for operation in [op for op in ORDER_OPERATIONS if op in document["operations"]]:
        steps, written = document["operations"][operation], []
        for step in steps:
            item = {"step": step["step"], "do": step["do"]}
            if step["description"]:
                item["description"] = step["description"]
            for key in ("services", "when", "unless", "after"):
                if step[key]:
                    item[key] = yamlio.Flow(sorted(step[key].items())) if key == "services" else list(step[key])
            written.append(item)
        operations[operation] = written
    body = {"target": document["target"]}
    if document.get("service_types"):
        body["service_types"] = {k: list(document["service_types"][k]) for k in SERVICE_TYPES
                                 if k in document["service_types"]}
    body["operations"] = operations
    return yamlio.dump(body, header=HEADER)


def diff(old: dict | None, new: dict) -> list[tuple[str, str, str]]:
    """What applying `new` over `old` changes: (verb, where, what) with verb create, update or delete."""
    old = old or {"target": new["target"], "service_types": {}, "operations": {}}
    changes = []
    for kind in sorted(set(old["service_types"]) | set(new["service_types"])):
        before, after = old["service_types"].get(kind), new["service_types"].get(kind)
        if before != after:
            verb = "create" if before is None else "delete" if after is None else "update"
            changes.append((verb, f"service_types.{kind}", ", ".join(after or before or [])))
    for operation in ORDER_OPERATIONS:
        before = {s["step"]: s for s in old["operations"].get(operation, [])}
        after = {s["step"]: s for s in new["operations"].get(operation, [])}
        for name, step in after.items():
            if name not in before:
                changes.append(("create", f"{operation}.{name}", describe(step)))
            elif before[name] != step:
                changes.append(("update", f"{operation}.{name}", describe(step)))
        for name, step in before.items():
            if name not in after:
                changes.append(("delete", f"{operation}.{name}", describe(step)))
        if [n for n in after if n in before] != [n for n in before if n in after]:
            changes.append(("update", operation, "order: " + " -> ".join(after)))
    return changes


def describe(step: dict) -> str:
    """One step as a product manager reads it."""
    words = [step["do"].replace("_", " ")]
    if step["services"]:
        words.append(", ".join(f"{'enable' if on else 'remove'} {name}" for name, on in step["services"].items()))
    if step["when"]:
        words.append("for lines with " + " and ".join(step["when"]))
    if step["unless"]:
        words.append("for lines without " + " or ".join(step["unless"]))
    if step["after"]:
        words.append("after " + ", ".join(step["after"]))
    return "; ".join(words)


def default_document() -> dict:
    """The sequencing shipped with Telora (provisioning/data/sequencing.yaml)."""
    return load_text(DEFAULT_FILE.read_text(encoding="utf-8"))
