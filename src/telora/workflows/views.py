"""Desks (their open tasks, claim, the task form) and flows (versions, steps, document) on screen."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from telora.core import clock
from telora.core.services import ServiceError
from telora.ui.views.generic import AreaMixin, ScopedObjectMixin
from telora.workflows import registry, selectors
from telora.workflows.models import Desk, FlowDefinition, FlowVersion, HumanTask
from telora.workflows.services import claim_task, complete_task, unclaim_task


class DeskListView(AreaMixin, TemplateView):
    area = "workflows"
    title = "Desks"
    template_name = "workflows/desk_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(desks=selectors.desks_with_counts(self.request.user, self.brand), **kwargs)


class DeskView(ScopedObjectMixin, TemplateView):
    model = Desk
    area = "workflows"
    template_name = "workflows/desk.html"

    def get_context_data(self, **kwargs):
        at = clock.now()
        filters = {key: self.request.GET.get(key, "") for key in selectors.TASK_FILTERS}
        tasks = list(selectors.open_tasks(self.object, filters=filters, at=at)[:selectors.DESK_PAGE + 1])
        more = len(tasks) > selectors.DESK_PAGE
        return super().get_context_data(tasks=tasks[:selectors.DESK_PAGE], more=more, filters=filters, now=at,
                                        title=self.object.name,
                                        can_work=selectors.may_work(self.request.user, self.object), **kwargs)


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
        return super().get_context_data(version=self.object, steps=selectors.steps_table(
            self.object.bpmn_xml, self.object.process_id), title=str(self.object), **kwargs)
