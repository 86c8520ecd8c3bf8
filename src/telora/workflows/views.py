"""Desks (their open tasks, claim, the task form) and flows (versions, steps, document) on screen."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from telora.core import clock, rights
from telora.core.services import ServiceError
from telora.ui.views.generic import AreaMixin, ScopedObjectMixin, ServiceFormView
from telora.workflows import builder, registry, selectors
from telora.workflows.diff import diff_flows, flow_steps, show
from telora.workflows.forms import BusinessCalendarForm
from telora.workflows.layout import with_diagram
from telora.workflows.models import Desk, FlowDefinition, FlowVersion, HumanTask
from telora.workflows.services import claim_task, complete_task, publish_version, save_flow, unclaim_task
from telora.workflows.services.calendar import parse_holidays, save_calendar


class DeskListView(AreaMixin, TemplateView):
    area = "workflows"
    title = "Desks"
    template_name = "workflows/desk_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(desks=selectors.desks_with_counts(self.request.user, self.brand),
                                        cap=selectors.COUNT_CAP, **kwargs)


class DeskView(ScopedObjectMixin, TemplateView):
    model = Desk
    area = "workflows"
    template_name = "workflows/desk.html"

    def get_context_data(self, **kwargs):
        at = clock.now()
        filters = {key: self.request.GET.get(key, "") for key in selectors.TASK_FILTERS}
        after_id = _int(self.request.GET.get("after"))
        # the previous page's last task, found in this desk only (an id from elsewhere starts at the top)
        after = (HumanTask.objects.filter(desk=self.object, pk=after_id).values_list("due_at", "created_at", "id")
                 .first() if after_id else None)
        tasks, more = selectors.task_page(self.object, filters=filters, at=at, after=after)
        # counted only when there is more than one page: a single page is the whole answer
        count, beyond = (selectors.capped_count(selectors.matching_tasks(self.object, filters=filters, at=at))
                         if more or after else (len(tasks), False))
        for task in tasks:  # formatted once here: the date filter costs more than the rest of a row
            task.created_label = timezone.localtime(task.created_at).strftime("%Y-%m-%d %H:%M")
            task.due_label = timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M") if task.due_at else ""
            task.overdue = task.due_at is not None and task.due_at < at
        query = {key: value for key, value in filters.items() if value}
        next_url = f"?{urlencode({**query, 'after': tasks[-1].pk})}" if more and tasks else ""
        return super().get_context_data(tasks=tasks, more=more, filters=filters, now=at, task_count=count,
                                        count_beyond=beyond, next_url=next_url, paged=after is not None,
                                        first_url=f"?{urlencode(query)}",
                                        title=self.object.name,
                                        can_work=selectors.may_work(self.request.user, self.object), **kwargs)


class BusinessCalendarView(AreaMixin, ServiceFormView):
    """The active brand's business calendar: what "business time" in a flow's due times and timers counts."""

    area = "workflows"
    title = "Business calendar"
    template_name = "workflows/calendar.html"
    form_class = BusinessCalendarForm

    def check_rights(self):
        super().check_rights()
        if self.request.method == "POST" and not rights.has_perm(self.request.user, self.brand, "workflows.change"):
            raise PermissionDenied

    def get_initial(self):
        current = selectors.calendar_settings(self.brand)
        return {"weekend": current["weekend"], "opens": current["opens"], "closes": current["closes"],
                "holidays": "\n".join(f"{day} {name}".strip() for day, name in current["holidays"])}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            can_change=rights.has_perm(self.request.user, self.brand, "workflows.change"),
            saved=selectors.calendar_settings(self.brand)["saved"], **kwargs)

    def perform(self, form, *, actor, at):
        data = form.cleaned_data
        return save_calendar(self.brand, weekend=data["weekend"], opens=data["opens"], closes=data["closes"],
                             holidays=parse_holidays(data["holidays"]), actor=actor, at=at)

    def get_success_message(self, result):
        return "Business calendar saved."

    def get_success_url(self, result=None):
        return reverse("workflows:calendar")


class TaskMixin(ScopedObjectMixin):
    model = HumanTask
    area = "workflows"

    def scoped_queryset(self, action):
        return HumanTask.objects.for_user(self.request.user, "view").select_related("desk__brand", "instance")

    def check_work(self):
        if not selectors.may_work(self.request.user, self.object.desk):
            raise PermissionDenied


class TaskView(TaskMixin, TemplateView):
    template_name = "workflows/task.html"

    def get_context_data(self, **kwargs):
        hook = registry.subject_hook(self.object.instance.subject_type)
        subject = hook.describe(self.object.instance) if hook and hook.describe else None
        return super().get_context_data(
            task=self.object, subject=subject, title=self.object.name, now=clock.now(),
            can_work=selectors.may_work(self.request.user, self.object.desk),
            steps=self.object.instance.step_log.all()[:100], errors=kwargs.pop("errors", {}),
            values=kwargs.pop("values", {}), **kwargs)

    def post(self, request, *args, **kwargs):
        self.check_work()
        data = {item["name"]: request.POST.get(item["name"]) for item in self.object.fields}
        reason = request.POST.get("reject_reason", "").strip() if "reject" in request.POST else ""
        if "reject" in request.POST and not reason:
            return self.render_to_response(self.get_context_data(errors={"reject_reason": "a reason is required"},
                                                                 values=data), status=400)
        try:
            complete_task(self.object, data=data, reject_reason=reason, actor=self.actor(), at=clock.now())
        except ServiceError as exc:
            field = exc.field if exc.field in data else "general"
            return self.render_to_response(self.get_context_data(errors={field: str(exc)}, values=data), status=400)
        messages.success(request, "Task rejected." if reason else "Task completed.")
        return HttpResponseRedirect(reverse("workflows:desk", args=[self.object.desk_id]))


class ClaimView(TaskMixin, View):
    http_method_names = ["post"]
    operation = staticmethod(claim_task)

    def post(self, request, *args, **kwargs):
        self.check_work()
        try:
            self.operation(self.object, actor=self.actor(), at=clock.now())
        except ServiceError as exc:
            messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("workflows:task", args=[self.object.pk]))


class UnclaimView(ClaimView):
    operation = staticmethod(unclaim_task)


class FlowListView(AreaMixin, TemplateView):
    area = "workflows"
    title = "Flows"
    template_name = "workflows/flow_list.html"

    def get_context_data(self, **kwargs):
        flows = FlowDefinition.objects.for_user(self.request.user).prefetch_related("versions")
        flows = flows.filter(brand__isnull=True) | flows.filter(brand=self.brand)
        return super().get_context_data(flows=flows.distinct(), **kwargs)


class FlowVersionView(ScopedObjectMixin, TemplateView):
    model = FlowVersion
    area = "workflows"
    template_name = "workflows/version.html"

    def scoped_queryset(self, action):
        return FlowVersion.objects.filter(definition__in=FlowDefinition.objects.for_user(self.request.user, action))

    def get_context_data(self, **kwargs):
        user, version = self.request.user, self.object
        try:
            builder.save_target(user, version, self.brand)
            can_edit = True
        except PermissionDenied:
            can_edit = False
        can_publish = (version.state == FlowVersion.DRAFT and FlowDefinition.objects.for_user(user, "change")
                       .filter(pk=version.definition_id).exists())
        return super().get_context_data(
            version=version, steps=selectors.steps_table(version.bpmn_xml, version.process_id), title=str(version),
            diagram_xml=with_diagram(version.bpmn_xml, version.process_id), can_edit=can_edit,
            can_publish=can_publish, others=builder.related_versions(user, version).exclude(pk=version.pk),
            **kwargs)


class FlowBuilderView(ScopedObjectMixin, TemplateView):
    """The flow builder: bpmn-js's modeler on a version's document, our side form for Telora's extensions.
    Saving posts the edited document as JSON and answers the new draft or every problem found."""

    model = FlowVersion
    area = "workflows"
    template_name = "workflows/builder.html"

    def scoped_queryset(self, action):
        return FlowVersion.objects.filter(definition__in=FlowDefinition.objects.for_user(self.request.user, action))

    def check_rights(self):
        super().check_rights()
        self.target_brand = builder.save_target(self.request.user, self.object, self.brand)

    def get_context_data(self, **kwargs):
        definition = self.object.definition
        return super().get_context_data(
            version=self.object, title=f"Flow builder: {definition.key}", target_brand=self.target_brand,
            copies_standard=definition.brand is None and self.target_brand is not None,
            diagram_xml=with_diagram(self.object.bpmn_xml, self.object.process_id),
            palette=builder.palette(self.target_brand or self.brand), **kwargs)

    def post(self, request, *args, **kwargs):
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = {}
        xml = body.get("xml") if isinstance(body, dict) else None
        if not isinstance(xml, str) or not xml.strip():
            return JsonResponse({"problems": [{"line": None, "element": "", "message": "no document sent"}]},
                                status=400)
        problems = builder.flow_problems(xml, brand=self.target_brand)
        if problems:
            return JsonResponse({"problems": problems}, status=400)
        try:
            version = save_flow(self.object.definition.key, xml, brand=self.target_brand,
                                name=self.object.definition.name, actor=self.actor(), at=clock.now())
        except ServiceError as exc:
            return JsonResponse({"problems": [{"line": None, "element": "", "message": str(exc)}]}, status=400)
        return JsonResponse({
            "version": version.number, "label": str(version), "url": reverse("workflows:version", args=[version.pk]),
            "edit_url": reverse("workflows:builder", args=[version.pk]),
            "publish_url": reverse("workflows:publish", args=[version.pk]),
            "diff_url": f"{reverse('workflows:diff')}?old={self.object.pk}&new={version.pk}"})


class PublishVersionView(ScopedObjectMixin, View):
    """Publish a draft: the next instance of the flow starts on it; running ones stay on theirs."""

    model = FlowVersion
    area = "workflows"
    required_action = "change"
    http_method_names = ["post"]

    def scoped_queryset(self, action):
        return FlowVersion.objects.filter(definition__in=FlowDefinition.objects.for_user(self.request.user, action))

    def post(self, request, *args, **kwargs):
        try:
            publish_version(self.object, actor=self.actor(), at=clock.now())
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{self.object} is published: new instances start on it.")
        return HttpResponseRedirect(reverse("workflows:version", args=[self.object.pk]))


class FlowDiffView(AreaMixin, TemplateView):
    """Two versions side by side: steps added, removed and changed (any two the user may see)."""

    area = "workflows"
    title = "Compare flow versions"
    template_name = "workflows/diff.html"

    def get_context_data(self, **kwargs):
        visible = FlowVersion.objects.filter(
            definition__in=FlowDefinition.objects.for_user(self.request.user)).select_related("definition__brand")
        old = get_object_or_404(visible, pk=_int(self.request.GET.get("old")))
        new = get_object_or_404(visible, pk=_int(self.request.GET.get("new")))
        result = diff_flows(flow_steps(old.bpmn_xml, old.process_id), flow_steps(new.bpmn_xml, new.process_id))
        changed = [(before, after, [(c.aspect, show(c.aspect, c.old), show(c.aspect, c.new)) for c in changes])
                   for before, after, changes in result.changed]
        return super().get_context_data(old=old, new=new, diff=result, changed=changed,
                                        choices=builder.related_versions(self.request.user, new), **kwargs)


class FlowDocView(ScopedObjectMixin, TemplateView):
    """A flow's documentation on screen: the drawing and the steps table of its latest published version
    (the content `telora flows doc` writes to docs/flows/), or of the latest draft when none is published."""

    model = FlowDefinition
    area = "workflows"
    template_name = "workflows/flow_doc.html"

    def get_context_data(self, **kwargs):
        versions = self.object.versions.order_by("-number")
        version = versions.filter(state=FlowVersion.PUBLISHED).first() or versions.first()
        context = {"flow": self.object, "version": version, "title": f"{self.object.name} ({self.object.key})"}
        if version is not None:
            context.update(steps=selectors.steps_table(version.bpmn_xml, version.process_id),
                           diagram_xml=with_diagram(version.bpmn_xml, version.process_id))
        return super().get_context_data(**context, **kwargs)


def _int(value) -> int:
    return int(value) if str(value or "").isdigit() and len(str(value)) < 12 else 0
