"""`{% resume_button run %}`: the Resume button of a run's page, shown to whoever may resume the run
and only while it is failed or stalled (services.resume decides; the view judges again)."""

from django import template

from telora.billing.views.common import may

register = template.Library()


@register.inclusion_tag("billing/runs/_resume.html", takes_context=True)
def resume_button(context, run):
    from telora.billing.services.resume import resumable

    request = context.get("request")
    user = getattr(request, "user", None)
    perm = "approve" if run.kind == "production" else "change"
    show = (user is not None and run.status in ("failed", "queued", "running") and may(user, run, perm)
            and resumable(run))
    return {"run": run, "show": show, "csrf_token": context.get("csrf_token")}
