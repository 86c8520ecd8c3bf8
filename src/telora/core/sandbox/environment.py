"""The bounded Jinja2 sandbox every user-edited template renders in (invoices now, letters later).

Jinja2's ImmutableSandboxedEnvironment keeps a template away from Python internals and from
changing its data, but not from spending: `{{ 7 ** (3 * 10**7) }}` runs for half a minute and a
nested loop for hours. This environment also bounds what one render may cost:

- `**` and `*` on integers refuse results above `max_int_bits`; `*` and `+` on strings and lists
  refuse results above `max_sequence`; `range()` above `max_range`; widths and counts given to
  string methods, `%`/`format` and the padding filters above `max_width`;
- every `{% for %}` step counts towards `max_loop_iterations` (all loops of one render together),
  the output towards `max_output`, and nested macro/block calls towards `max_depth`;
- `|safe` and `{% autoescape false %}` are refused (autoescaping is the guarantee that document text
  cannot inject markup), and so are recursive macros and self-calling blocks (checks.py), when the
  template is compiled: at save and at every render.

A bound that is passed raises TemplateLimitError (a SecurityError, so a TemplateError) from the
template's own frame: `line_of(exc)` names the line. What the sandbox cannot count (a library's C
code, a huge regular document) the worker process's CPU, memory and wall-clock limits stop (pool.py).
"""

from __future__ import annotations

import ast
import re
from contextvars import ContextVar
from types import BuiltinMethodType, CodeType

from jinja2 import TemplateSyntaxError
from jinja2.defaults import DEFAULT_FILTERS
from jinja2.environment import Template
from jinja2.exceptions import SecurityError
from jinja2.runtime import BlockReference, Macro, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment

from telora.core.sandbox.checks import refused_construct
from telora.core.sandbox.limits import Limits

_DEFAULT: list[Limits] = [Limits()]  # the process's limits (a worker sets them from its settings)
_BUDGET: ContextVar = ContextVar("telora_template_budget", default=None)
_PERCENT_WIDTH = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_BRACE_FIELD = re.compile(r"\{[^{}]*?:([^{}]*)\}|\{[^{}]*?:[^{}]*\{")
_DIGITS = re.compile(r"\d+")
_WIDTH_FILTERS = ("center", "indent", "batch", "slice", "wordwrap", "truncate")
_JOINS = {"markup_join": "bounded_markup_join", "str_join": "bounded_str_join"}


class TemplateLimitError(SecurityError):
    """A template passed one of the sandbox's bounds (loop iterations, output, number size, depth)."""


def configure(limits: Limits) -> None:
    """Set the limits renders in this process use (a worker does this from the caller's settings)."""
    _DEFAULT[0] = limits


def current_limits() -> Limits:
    budget = _BUDGET.get()
    return budget.limits if budget is not None else _DEFAULT[0]


def line_of(exc: BaseException) -> int | None:
    """The line of a template given as text (`from_string`) an error comes from: a syntax error's,
    else the last frame of the template in the traceback; None when the error is elsewhere."""
    if isinstance(exc, TemplateSyntaxError) and exc.lineno and exc.name is None:
        return exc.lineno
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


class _Budget:
    __slots__ = ("limits", "iterations", "depth")

    def __init__(self, limits: Limits):
        self.limits = limits
        self.iterations = 0
        self.depth = 0


def _short(value) -> str:
    text = repr(value) if isinstance(value, (int, float)) else type(value).__name__
    return text if len(text) <= 24 else text[:20] + "..."


def _check_width(value, what: str) -> None:
    limit = current_limits().max_width
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > limit:
        raise TemplateLimitError(f"{what}: {_short(value)} is more than the sandbox allows ({limit:,})")


def _check_format(text: str) -> None:
    """Refuse `%`- and `{}`-format widths and precisions above max_width (and `*` or nested fields,
    whose width would come from the data): `'%0999999999d' % 1` would make a gigabyte."""
    limit = current_limits().max_width
    for match in _PERCENT_WIDTH.finditer(text):
        for part in match.groups():
            if part == "*" or (part and int(part) > limit):
                raise TemplateLimitError(f"format {match.group(0)!r}: widths above {limit:,} are refused")
    for match in _BRACE_FIELD.finditer(text):
        spec = match.group(1)
        if spec is None:
            raise TemplateLimitError(f"format {match.group(0)!r}: a width taken from a field is refused")
        for number in _DIGITS.findall(spec):
            if int(number) > limit:
                raise TemplateLimitError(f"format {match.group(0)!r}: widths above {limit:,} are refused")


def _bounded_filter(name: str, func):
    def bounded(*args, **kwargs):
        for value in list(args[1:]) + list(kwargs.values()):
            _check_width(value, f"|{name}")
        return func(*args, **kwargs)

    for attr in ("jinja_pass_arg",):
        if hasattr(func, attr):
            setattr(bounded, attr, getattr(func, attr))
    return bounded


def _check_replace(text, old, new, count=-1) -> None:
    """`"ab"|replace("", s)` makes len(text) copies of s: refuse results above max_output."""
    if not all(isinstance(v, str) for v in (text, old, new)):
        return
    times = (len(text) + 1 if old == "" else text.count(old)) if not (_is_int(count) and count >= 0) else count
    limit = current_limits().max_output
    if len(text) + times * max(0, len(new) - len(old)) > limit:
        raise TemplateLimitError(f"replace would make more than {limit:,} characters")


def _check_join(separator, items) -> None:
    if not isinstance(separator, str) or not separator or not isinstance(items, (list, tuple, range)):
        return
    limit = current_limits().max_output
    if len(separator) * max(0, len(items) - 1) > limit:
        raise TemplateLimitError(f"join would make more than {limit:,} characters")


def _replace(eval_ctx, value, old, new, count=None):
    _check_replace(str(value), str(old), str(new), -1 if count is None else count)
    return DEFAULT_FILTERS["replace"](eval_ctx, value, old, new, count)


def _join(eval_ctx, value, d="", attribute=None):
    _check_join(str(d), value if isinstance(value, (list, tuple, range)) else [])
    return DEFAULT_FILTERS["join"](eval_ctx, value, d, attribute)


_replace.jinja_pass_arg = DEFAULT_FILTERS["replace"].jinja_pass_arg
_join.jinja_pass_arg = DEFAULT_FILTERS["join"].jinja_pass_arg


def _refuse_safe(value):
    raise TemplateLimitError("'|safe' is not allowed: text is always escaped")


def _format(value, *args, **kwargs):
    _check_format(str(value))
    return DEFAULT_FILTERS["format"](value, *args, **kwargs)


class _LoopBounder(ast.NodeTransformer):
    """Wraps the iterable of every loop a template's `{% for %}` became (their targets are the
    template's variables, `l_<n>_<name>`) in `environment.bounded_iter(...)`; Jinja's own loops
    (over blocks, included output) are left alone."""

    def visit_For(self, node: ast.For):
        self.generic_visit(node)
        if any(isinstance(n, ast.Name) and n.id.startswith("l_") for n in ast.walk(node.target)):
            call = ast.Call(func=ast.Attribute(value=ast.Name(id="environment", ctx=ast.Load()),
                                               attr="bounded_iter", ctx=ast.Load()),
                            args=[node.iter], keywords=[])
            node.iter = ast.copy_location(call, node.iter)
        return node

    def visit_Name(self, node: ast.Name):
        if node.id in _JOINS and isinstance(node.ctx, ast.Load):  # `~` joins: bounded too
            bounded = ast.Attribute(value=ast.Name(id="environment", ctx=ast.Load()), attr=_JOINS[node.id],
                                    ctx=ast.Load())
            return ast.copy_location(bounded, node)
        return node


class BoundedTemplate(Template):
    def render(self, *args, **kwargs) -> str:
        """The output, within the budget of one render (loop steps, output characters, depth)."""
        budget = _Budget(_DEFAULT[0])
        token = _BUDGET.set(budget)
        try:
            ctx = self.new_context(dict(*args, **kwargs))
            limit = budget.limits.max_output
            size = 0
            parts = []
            for chunk in self.root_render_func(ctx):
                size += len(chunk)
                if size > limit:
                    raise TemplateLimitError(f"the output passed {limit:,} characters "
                                             "(TELORA_TEMPLATE_MAX_OUTPUT)")
                parts.append(chunk)
            return "".join(parts)
        except RecursionError:
            # a recursive {% for %} calling loop() without end, or blocks calling each other
            try:
                raise TemplateLimitError("the template calls itself without end (recursion)") from None
            except TemplateLimitError:
                self.environment.handle_exception()
        except Exception:
            self.environment.handle_exception()
        finally:
            _BUDGET.reset(token)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """ImmutableSandboxedEnvironment with the bounds described above (module docstring)."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    template_class = BoundedTemplate

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("autoescape", True)
        super().__init__(*args, **kwargs)
        self.globals["range"] = self._range
        self.globals.pop("lipsum", None)  # makes any amount of text on request
        for name in _WIDTH_FILTERS:
            self.filters[name] = _bounded_filter(name, self.filters[name])
        self.filters["format"] = _format
        self.filters["replace"] = _replace
        self.filters["join"] = _join
        self.filters["safe"] = _refuse_safe
        self.concat = self._concat  # what {% set %} blocks, macros and blocks capture

    @staticmethod
    def _text(result: str) -> str:
        limit = current_limits().max_output
        if len(result) > limit:
            raise TemplateLimitError(f"text of more than {limit:,} characters (TELORA_TEMPLATE_MAX_OUTPUT)")
        return result

    def _concat(self, parts) -> str:
        return self._text("".join(parts))

    def bounded_markup_join(self, seq):
        return self._text(markup_join(seq))

    def bounded_str_join(self, seq):
        return self._text(str_join(seq))

    # -- compile time --------------------------------------------------------------------------
    def _generate(self, source, name, filename, defer_init=False):
        refusal = refused_construct(source)
        if refusal is not None:
            line, message = refusal
            raise TemplateSyntaxError(message, line or 1, name, filename)
        return super()._generate(source, name, filename, defer_init=defer_init)

    def _compile(self, source: str, filename: str) -> CodeType:
        tree = _LoopBounder().visit(ast.parse(source, filename))
        return compile(ast.fix_missing_locations(tree), filename, "exec")

    # -- run time ------------------------------------------------------------------------------
    def bounded_iter(self, iterable):
        budget = _BUDGET.get() or _Budget(_DEFAULT[0])
        limit = budget.limits.max_loop_iterations
        for item in iterable:
            budget.iterations += 1
            if budget.iterations > limit:
                raise TemplateLimitError(f"more than {limit:,} loop steps in one render "
                                         "(TELORA_TEMPLATE_MAX_LOOP_ITERATIONS); nested loops?")
            yield item

    def _range(self, *args):
        rng = range(*args)
        limit = current_limits().max_range
        if len(rng) > limit:
            raise TemplateLimitError(f"range of {len(rng):,} items: at most {limit:,}")
        return rng

    def call_binop(self, context, operator, left, right):
        limits = current_limits()
        if operator == "**":
            if (_is_int(left) and _is_int(right) and right > 0 and abs(left) > 1
                    and right * abs(left).bit_length() > limits.max_int_bits):
                raise TemplateLimitError(f"{_short(left)} ** {_short(right)} would be a number of more than "
                                         f"{limits.max_int_bits:,} bits")
        elif operator == "*":
            if _is_int(left) and _is_int(right):
                if left.bit_length() + right.bit_length() > limits.max_int_bits:
                    raise TemplateLimitError(f"{_short(left)} * {_short(right)} would be a number of more than "
                                             f"{limits.max_int_bits:,} bits")
            else:
                sequence, count = (left, right) if _is_int(right) else (right, left)
                if isinstance(sequence, (str, list, tuple)) and _is_int(count) \
                        and len(sequence) * count > limits.max_sequence:
                    raise TemplateLimitError(f"repeating {len(sequence):,} items {_short(count)} times would make "
                                             f"more than {limits.max_sequence:,}")
        elif operator == "+":
            if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
                limit = limits.max_output if isinstance(left, str) else limits.max_sequence
                if len(left) + len(right) > limit:
                    unit = "characters" if isinstance(left, str) else "items"
                    raise TemplateLimitError(f"joining would make more than {limit:,} {unit}")
        elif operator == "%" and isinstance(left, str):
            _check_format(left)
        return self.binop_table[operator](left, right)

    def wrap_str_format(self, value):
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format(str(value.__self__))  # "{:>999999999}".format(1)
        return wrapped

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805  (Jinja's own signature)
        if isinstance(__obj, BuiltinMethodType) and isinstance(getattr(__obj, "__self__", None), (str, int)):
            for value in list(args) + list(kwargs.values()):
                _check_width(value, f".{__obj.__name__}()")  # "x".ljust(10**9), (1).to_bytes(10**9)
            if __obj.__name__ == "replace" and len(args) >= 2:
                _check_replace(__obj.__self__, *args[:3])
            elif __obj.__name__ == "join" and args:
                _check_join(__obj.__self__, args[0])
        if not isinstance(__obj, (Macro, BlockReference)):
            return super().call(__context, __obj, *args, **kwargs)
        budget = _BUDGET.get() or _Budget(_DEFAULT[0])
        budget.depth += 1
        try:
            if budget.depth > budget.limits.max_depth:
                raise TemplateLimitError(f"macros and blocks nested more than {budget.limits.max_depth} deep "
                                         "(a macro or block calling itself?)")
            return super().call(__context, __obj, *args, **kwargs)
        finally:
            budget.depth -= 1


def render_string(task: tuple) -> str:
    """`task` = (source, variables): the source rendered in a plain BoundedSandbox (autoescaped, no
    loader), e.g. in a BoundedPool worker. Apps render through their own environment instead."""
    source, variables = task
    return BoundedSandbox().from_string(source).render(variables)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


__all__ = ["BoundedSandbox", "TemplateLimitError", "configure", "current_limits", "line_of", "render_string"]
