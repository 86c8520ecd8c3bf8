"""The bounded template sandbox (telora.core.sandbox): every way a template could make a render cost
without end fails fast with a named error at its line; refused constructs are refused when the
template compiles; a worker that breaches its CPU, memory or wall-clock limit is killed, reported
and replaced, and the next render in the same pool succeeds. No timings are asserted: the limits
are made tiny so that the breaches come quickly."""

import pytest
from jinja2 import TemplateSyntaxError

from telora.core.sandbox import (
    BoundedPool,
    BoundedSandbox,
    LimitExceeded,
    Limits,
    TemplateLimitError,
    configure,
    external_reference,
    line_of,
    render_string,
)

NESTED = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"


@pytest.fixture
def env():
    return BoundedSandbox()


def refused(env, source, **variables):
    with pytest.raises(TemplateLimitError) as caught:
        env.from_string(source).render(variables)
    return str(caught.value), line_of(caught.value)


@pytest.mark.parametrize("source, words", [
    ("<p>\n{{ (7**(3*10**7)) % 10 }}</p>", "more than 4,096 bits"),
    ("<p>\n{{ (2**4000) * (2**4000) }}</p>", "more than 4,096 bits"),
    ("<p>\n{{ 'x' * 10**9 }}</p>", "repeating 1 items"),
    ("<p>\n{{ [0] * 10**9 }}</p>", "repeating 1 items"),
    ("<p>\n{{ (range(1000)|list) * 2000 }}</p>", "repeating 1,000 items"),
    ("<p>\n{{ range(10**9)|length }}</p>", "range of 1,000,000,000 items"),
    ("<p>\n" + NESTED + "</p>", "loop steps in one render"),
    ("<p>\n{{ '%0999999999d' % 1 }}</p>", "widths above 10,000"),
    ("<p>\n{{ '%*d' % (10**9, 1) }}</p>", "widths above 10,000"),
    ("<p>\n{{ '{:>999999999}'.format(1) }}</p>", "widths above 10,000"),
    ("<p>\n{{ '{:{w}}'.format(1, w=10**9) }}</p>", "width taken from a field"),
    ("<p>\n{{ '%09999999d'|format(1) }}</p>", "widths above 10,000"),
    ("<p>\n{{ 'x'.ljust(10**9) }}</p>", ".ljust()"),
    ("<p>\n{{ (1).to_bytes(10**9, 'big') }}</p>", ".to_bytes()"),
    ("<p>\n{{ 'x'|center(10**9) }}</p>", "|center"),
    ("<p>\n{{ 'x'|indent(10**9) }}</p>", "|indent"),
    ("<p>\n{{ [1]|batch(10**9, 'x')|list }}</p>", "|batch"),
    ("{% set s = 'x' * 100000 %}\n{{ (s|replace('', s))|length }}", "replace would make more than"),
    ("{% set s = 'x' * 100000 %}\n{{ s.replace('', s)|length }}", "replace would make more than"),
    ("{% set s = 'x' * 1000000 %}\n{{ (range(100000)|join(s))|length }}", "join would make more than"),
    ("{% set s = 'x' * 1000000 %}\n{{ s.join(range(100000)|map('string')|list)|length }}", "join would make more"),
    ("{% set ns = namespace(s='x') %}\n{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
     "text of more than 20,000,000 characters"),
    ("{% set ns = namespace(s='x') %}\n{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
     "more than 20,000,000 characters"),
    ("{% set ns = namespace(s='x') %}\n{% for i in range(40) %}{% set t %}{{ ns.s }}{{ ns.s }}{% endset %}"
     "{% set ns.s = t %}{% endfor %}", "text of more than 20,000,000 characters"),
])
def test_each_costly_construct_fails_fast_naming_its_line(env, source, words):
    message, line = refused(env, source)
    assert words in message, message
    assert line == 2


@pytest.fixture
def tiny():
    """Limits set for this process's renders, put back after the test."""
    def set_limits(**values):
        configure(Limits(**values))

    yield set_limits
    configure(Limits())


def test_the_output_of_a_render_is_bounded(env, tiny):
    tiny(max_output=10_000)
    message, _line = refused(env, "{% for i in range(100) %}\n{{ 'x' * 1000 }}{% endfor %}")
    assert "the output passed 10,000 characters" in message


def test_macros_calling_each_other_through_their_arguments_are_stopped_at_the_depth_cap(env, tiny):
    tiny(max_depth=5)  # no macro names itself, so only the run-time count can stop this
    message, line = refused(env, "{% macro a(f) %}{{ f(f) }}{% endmacro %}\n{{ a(a) }}")
    assert "nested more than 5 deep" in message and line in (1, 2)


def test_a_recursive_loop_without_end_is_a_named_error_not_a_crash(env):
    message, _line = refused(env, "{% for s in y recursive %}{{ loop(y) }}{% endfor %}", y=[1])
    assert "nested more than" in message or "recursion" in message or "loop steps" in message


@pytest.mark.parametrize("source, line, words", [
    ("<p>\n{{ name|safe }}</p>", 2, "'|safe' is not allowed"),
    ("<p>\n{% autoescape false %}{{ name }}{% endautoescape %}</p>", 2, "autoescaping cannot be turned off"),
    ("{% macro m(x) %}\n{{ m(x) }}{% endmacro %}{{ m(1) }}", 2, "macro 'm' calls itself"),
    ("{% macro m(x) %}{{ n(x) }}{% endmacro %}\n{% macro n(x) %}\n{{ m(x) }}{% endmacro %}{{ m(1) }}", 3,
     "calls itself (through 'n')"),
    ("{% macro m() %}{{ caller() }}{% endmacro %}\n{% call m() %}\n{{ m() }}{% endcall %}", 3,
     "macro 'm' calls itself"),
    ("{% block a %}\n\n{{ self.a() }}{% endblock %}", 3, "block 'a' calls itself"),
    ("<p>\n{{ name.__class__ }}</p>", 2, "'__class__' reaches Python internals"),
])
def test_refused_constructs_are_refused_when_the_template_compiles(env, source, line, words):
    with pytest.raises(TemplateSyntaxError) as caught:
        env.from_string(source)
    assert words in caught.value.message and caught.value.lineno == line


def test_ordinary_templates_render_as_before(env):
    source = ("{% macro row(x) %}<td>{{ x }}</td>{% endmacro %}"
              "{% for n in items %}{{ row(n) }}{{ loop.index * 2 }}{% endfor %}|{{ 2 ** 10 }}|{{ name }}|"
              "{{ '%5.2f' % 3.14159 }}|{{ '{:>4}'.format('x') }}|{{ 'a' ~ 'b' }}|{{ 'x'|center(5) }}|"
              "{{ 'a-b'|replace('-', '+') }}|{{ items|join(',') }}|"
              "{% for s in tree recursive %}{{ s.n }}{{ loop(s.kids) }}{% endfor %}")
    tree = [{"n": 1, "kids": [{"n": 2, "kids": []}]}]
    html = env.from_string(source).render(items=[1, 2], name="<b>", tree=tree)
    assert html == ("<td>1</td>2<td>2</td>4|1024|&lt;b&gt;| 3.14|   x|ab|  x  |a+b|1,2|12")


@pytest.mark.parametrize("source, allowed", [
    ("<style>\nbody { background: url(https://evil.example/x.png) }</style>", False),
    ("<style>\n@font-face { src: url('file:///etc/passwd') }</style>", False),
    ("<style>\n@import 'https://evil.example/a.css';</style>", False),
    ("<p>\n<img src=\"http://127.0.0.1:9/x.png\"></p>", False),
    ("<p>\n<img src='file:///etc/hostname'></p>", False),
    ("<p>\n<link rel=\"stylesheet\" href=\"https://cdn.example/a.css\"></p>", False),
    ("<p>\n<a href=\"file:///etc/passwd\">x</a></p>", False),
    ("<p>\n<object data=\"//evil.example/x\"></object></p>", False),
    ("<p>\n<a href=\"https://nordmobil.example/pay\">pay</a> <a href=\"mailto:a@b.example\">mail</a></p>", True),
    ("<p>\n<img src=\"{{ brand.logo }}\"><img src=\"data:image/png;base64,AAAA\"></p>", True),
    ("<style>\nh1 { background: url(data:image/png;base64,AAAA) } .x { fill: url(#g) }</style>", True),
    ("<p data-kind=\"https://x\" class=\"url\">file: none</p>", True),
])
def test_references_outside_the_document_are_found_with_their_line(source, allowed):
    found = external_reference(source)
    if allowed:
        assert found is None, found
    else:
        assert found is not None and found[0] == 2, found
        assert "outside the document" in found[1] or "@import" in found[1]


# -- worker processes -------------------------------------------------------------------------------

def test_a_worker_past_its_cpu_limit_is_killed_reported_and_replaced():
    limits = Limits(cpu_seconds=1, wall_seconds=600, max_loop_iterations=10**12)
    with BoundedPool(limits) as pool:
        before = pool.pids
        with pytest.raises(LimitExceeded) as caught:
            pool.call(render_string, (NESTED, {}))
        assert caught.value.limit == "cpu" and "TELORA_TEMPLATE_CPU_SECONDS" in str(caught.value)
        assert pool.call(render_string, ("{{ 6 * 7 }}", {})) == "42"  # the next render succeeds
        assert pool.pids != before  # in a fresh worker


def test_a_worker_past_its_wall_clock_limit_is_killed_reported_and_replaced():
    limits = Limits(cpu_seconds=600, wall_seconds=0.5, max_loop_iterations=10**12)
    with BoundedPool(limits) as pool:
        before = pool.pids
        with pytest.raises(LimitExceeded) as caught:
            pool.call(render_string, (NESTED, {}))
        assert caught.value.limit == "wall" and "TELORA_TEMPLATE_WALL_SECONDS" in str(caught.value)
        assert pool.call(render_string, ("{{ name }}", {"name": "<ok>"})) == "&lt;ok&gt;"
        assert pool.pids != before


def test_a_worker_past_its_memory_limit_is_killed_reported_and_replaced():
    limits = Limits(memory_mb=64, max_sequence=10**12, max_output=10**12)
    with BoundedPool(limits) as pool:
        before = pool.pids
        with pytest.raises(LimitExceeded) as caught:
            pool.call(render_string, ("{{ ('x' * 10**9)|length }}", {}))
        assert caught.value.limit == "memory" and "TELORA_TEMPLATE_MEMORY_MB" in str(caught.value)
        assert pool.call(render_string, ("{{ ('x' * 1000)|length }}", {})) == "1000"
        assert pool.pids != before


def test_a_template_error_comes_back_with_its_line_and_the_worker_stays():
    with BoundedPool(Limits(), workers=2) as pool:
        before = pool.pids
        outcomes = list(pool.map(render_string, [("a\n{{ 7 ** (10**8) }}", {}), ("{{ 1 + 1 }}", {})]))
        by_index = {o.index: o for o in outcomes}
        assert isinstance(by_index[0].error, TemplateLimitError) and "bits" in str(by_index[0].error)
        assert by_index[0].error.args  # picklable: it came back from the worker as it was raised
        assert by_index[1].value == "2" and by_index[1].error is None
        assert pool.pids == before  # a template's own error does not cost a worker
