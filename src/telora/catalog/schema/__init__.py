"""The one validation layer: YAML-shaped data in, canonical specs (plain dicts) out.

`telora config apply` and the single-entity services used by forms both go through it, so a
form and a file refuse the same things with the same words. Errors name the path in the YAML
(`products[3].rate_plan: unknown rate plan 'X'`).
"""
