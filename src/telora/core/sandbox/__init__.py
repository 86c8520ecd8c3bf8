"""One bounded sandbox for every template a user edits (invoices now, letters later).

- `environment.BoundedSandbox`: Jinja2's ImmutableSandboxedEnvironment that also bounds what one
  render may cost (number and sequence sizes, loop steps, output, call depth) and refuses `|safe`,
  `{% autoescape false %}` and recursion when it compiles a template;
- `checks`: what a template may not contain (Python internals, recursion, references outside the
  document), each found with its line before anything runs;
- `pool.BoundedPool`: worker processes that render under CPU, memory and wall-clock limits, killed
  and replaced on a breach;
- `limits.Limits`: the bounds, from the TELORA_TEMPLATE_* settings (`limits_from_settings`).

Apps build their own environment on BoundedSandbox (their loader, filters and variables) and render
in a BoundedPool; nothing here knows invoices or letters.
"""

from telora.core.sandbox.checks import external_reference, refused_construct
from telora.core.sandbox.environment import (
           BoundedSandbox,
           TemplateLimitError,
           configure,
           line_of,
           render_string,
)
from telora.core.sandbox.limits import Limits, limits_from_settings
from telora.core.sandbox.pool import BoundedPool, LimitExceeded, Outcome, run_bounded

__all__ = ["BoundedPool", "BoundedSandbox", "LimitExceeded", "Limits", "Outcome", "TemplateLimitError", "configure",
           "external_reference", "limits_from_settings", "line_of", "refused_construct", "render_string", "run_bounded"]
