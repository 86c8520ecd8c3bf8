"""Flows (versioned BPMN documents), their running instances and step log, desks and desk tasks."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from telora.core import rights
from telora.core.models import BrandOwned
from telora.core.models.brands import BrandScopedQuerySet


class FlowDefinitionQuerySet(models.QuerySet):
    def for_user(self, principal, action: str = "view"):
        """A brand's own flows where the user holds workflows.<action>; the standard ones (no brand)
        for anyone holding it somewhere, to read (changing them needs a system administrator)."""
        brand_ids = rights.brands_with(principal, f"workflows.{action}")
        if brand_ids is rights.ALL:
            return self.all()
        standard = Q(brand__isnull=True) if brand_ids and action == "view" else Q(pk__in=[])
        return self.filter(Q(brand_id__in=brand_ids) | standard)


class FlowDefinition(models.Model):
    """A flow by key ("signup_mobile_postpaid"): the installation's standard one (brand empty) or a
    brand's own, which wins for that brand."""

    brand = models.ForeignKey("core.Brand", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    key = models.SlugField(_("key"), max_length=80)
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField()

    rights_area = "workflows"
    objects = FlowDefinitionQuerySet.as_manager()

    class Meta:
        ordering = ["key", "brand_id"]
        constraints = [
            models.UniqueConstraint(fields=["key", "brand"], name="workflows_flow_key_per_brand"),
            models.UniqueConstraint(fields=["key"], condition=Q(brand__isnull=True), name="workflows_flow_key_standard"),
        ]

    def __str__(self) -> str:
        return self.key


class FlowVersion(models.Model):
    """One version of a flow's BPMN document. Published versions never change (save refuses it);
    an instance keeps running on the version it started with."""

    DRAFT, PUBLISHED = "draft", "published"
    definition = models.ForeignKey(FlowDefinition, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    state = models.CharField(max_length=16, default=DRAFT, choices=[(DRAFT, _("draft")), (PUBLISHED, _("published"))])
    bpmn_xml = models.TextField()
    process_id = models.CharField(max_length=200)
    extensions = models.JSONField(default=dict)  # element id -> telora: extensions (engine/spiff.TaskExtension)
    failure_desk = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["definition_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["definition", "number"], name="workflows_version_once")]

    def __str__(self) -> str:
        return f"{self.definition.key} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk:
            stored = FlowVersion.objects.filter(pk=self.pk).values("state", "bpmn_xml").first()
            if stored and stored["state"] == self.PUBLISHED and stored["bpmn_xml"] != self.bpmn_xml:
                raise ValueError(f"{self} is published and cannot change; publish a new version")
        super().save(*args, **kwargs)


class FlowInstance(BrandOwned):
    """One run of a flow version about a subject (an order). `state_json` is SpiffWorkflow's serialized
    workflow (naming its flow version rather than carrying the spec), saved in the transaction of the
    effects of the steps that led to it (services/run.py)."""

    RUNNING, WAITING, COMPLETED, FAILED, CANCELLED = "running", "waiting", "completed", "failed", "cancelled"
    STATES = [(s, s) for s in (RUNNING, WAITING, COMPLETED, FAILED, CANCELLED)]
    version = models.ForeignKey(FlowVersion, on_delete=models.PROTECT, related_name="instances")
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    correlation = models.CharField(max_length=120, blank=True)  # matched by deliver_message
    state = models.CharField(max_length=16, choices=STATES, default=RUNNING)
    state_json = models.TextField()
    data = models.JSONField(default=dict)
    waiting_messages = models.JSONField(default=list)
    wake_at = models.DateTimeField(null=True, blank=True)  # the next timer or retry
    error = models.TextField(blank=True)
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    rights_area = "workflows"

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["wake_at"], condition=Q(state="waiting"), name="workflows_instance_wake"),
            models.Index(fields=["subject_type", "subject_id"], name="workflows_instance_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.version} #{self.pk}"

    @property
    def steps(self):
        return self.step_log.all()


class FlowStep(models.Model):
    """One step of an instance: a service task try, a desk task's completion, a timer, a message, an error."""

    instance = models.ForeignKey(FlowInstance, on_delete=models.CASCADE, related_name="step_log")
    task_id = models.CharField(max_length=64, blank=True)  # Spiff's task id
    element = models.CharField(max_length=200, blank=True)  # BPMN element id
    name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=32)  # service, user, timer, message, error, start, end, cancel, failure
    attempt = models.PositiveIntegerField(default=1)
    step_key = models.CharField(max_length=120, blank=True)
    actor = models.CharField(max_length=200)
    inputs = models.JSONField(default=dict)
    outputs = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["instance_id", "id"]
        constraints = [models.UniqueConstraint(fields=["step_key"], condition=~Q(step_key=""),
                                               name="workflows_step_key_once")]

    def __str__(self) -> str:
        return f"{self.kind} {self.element}"


class Desk(BrandOwned):
    """A place where people handle flow tasks; `roles` (empty: anyone with workflows.work) may work it."""

    code = models.SlugField(_("code"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    roles = models.ManyToManyField("core.Role", blank=True, related_name="+")

    rights_area = "workflows"

    class Meta:
        ordering = ["brand_id", "code"]
        constraints = [models.UniqueConstraint(fields=["brand", "code"], name="workflows_desk_code_per_brand")]

    def __str__(self) -> str:
        return self.name


class HumanTaskQuerySet(BrandScopedQuerySet):
    def open(self):
        return self.filter(state__in=(HumanTask.OPEN, HumanTask.CLAIMED))


class HumanTask(BrandOwned):
    """A task waiting for a person at a desk: a flow's user task, or a failed service task to retry,
    skip or abort (kind "failure")."""

    OPEN, CLAIMED, DONE, REJECTED, CANCELLED = "open", "claimed", "done", "rejected", "cancelled"
    STATES = [(s, s) for s in (OPEN, CLAIMED, DONE, REJECTED, CANCELLED)]
    USER, FAILURE = "user", "failure"
    instance = models.ForeignKey(FlowInstance, on_delete=models.CASCADE, related_name="human_tasks")
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="tasks")
    task_id = models.CharField(max_length=64)  # Spiff's task id
    element = models.CharField(max_length=200)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, default=USER, choices=[(USER, USER), (FAILURE, FAILURE)])
    fields = models.JSONField(default=list)
    state = models.CharField(max_length=16, choices=STATES, default=OPEN)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    subject_label = models.CharField(max_length=200, blank=True)  # for the desk's filter (customer, order)
    error = models.TextField(blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict)
    reason = models.TextField(blank=True)
    closed_by = models.CharField(max_length=200, blank=True)

    rights_area = "workflows"
    objects = HumanTaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["instance", "task_id", "kind"],
                                               condition=Q(state__in=("open", "claimed")),
                                               name="workflows_one_open_task")]
        indexes = [
            models.Index(fields=["desk", "state", "created_at"], name="workflows_task_desk_open"),
            # The desk page: a desk's open tasks in the page's order (due first, then oldest), read a page at
            # a time from the index whatever the number of open tasks.
            models.Index(fields=["desk", "due_at", "created_at", "id"], condition=Q(state__in=("open", "claimed")),
                         name="workflows_task_desk_queue"),
            # The desk list's oldest open task and the age filter: open tasks by creation.
            models.Index(fields=["desk", "created_at"], condition=Q(state__in=("open", "claimed")),
                         name="workflows_task_desk_age"),
            # The kind filter (a few failures among many flow tasks): the same queue per kind.
            models.Index(fields=["desk", "kind", "due_at", "created_at", "id"],
                         condition=Q(state__in=("open", "claimed")), name="workflows_task_desk_kind"),
            # The subject filter ("text in the subject label", icontains = UPPER(label) LIKE '%TEXT%'): trigrams.
            GinIndex(OpClass(Upper("subject_label"), name="gin_trgm_ops"), condition=Q(state__in=("open", "claimed")),
                     name="workflows_task_subject_trgm"),
        ]

    def __str__(self) -> str:
        return self.name


class BusinessCalendar(BrandOwned):
    """A brand's business days and working hours, for due times and timers counted in business time
    (`telora:calendar="business"`). Without a row the brand's country decides the weekend and its shipped
    public holidays (core/data/holidays/) apply; the operator edits the list here."""

    weekend = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True)  # ISO weekdays (none: 7 days)
    opens = models.TimeField(_("opens"), default=dt.time(8, 0))
    closes = models.TimeField(_("closes"), default=dt.time(17, 0))
    holidays = models.JSONField(default=list, blank=True)  # [["2026-12-24", "Juleaften"], ...] in date order
    updated_at = models.DateTimeField()

    rights_area = "workflows"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand"], name="workflows_calendar_per_brand")]

    def __str__(self) -> str:
        return f"business calendar of {self.brand_id}"
