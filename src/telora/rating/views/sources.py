"""Pull sources of the collector: the list (with what waits in each inbox and the last scan),
create and edit forms, and a scan-now button (rating.view to see, rating.change to act)."""

from __future__ import annotations

import os

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telora.core import clock
from telora.core.services import ServiceError
from telora.rating import formats
from telora.rating.models import UsageSource
from telora.rating.services.collector import (
    SOURCE_FIELDS,
    collect_source,
    create_source,
    is_candidate,
    update_source,
)
from telora.rating.views.common import AREA, may
from telora.ui.views.generic import (
    AreaMixin,
    ScopedListView,
    ScopedObjectMixin,
    ServiceActionView,
    ServiceFormView,
)


class SourceForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Source"), max_length=64,
                           help_text=gettext_lazy("The name files of this source are taken in under."))
    format = forms.ChoiceField(label=gettext_lazy("Format"), choices=())
    inbox = forms.CharField(label=gettext_lazy("Inbox folder"), max_length=500,
                            help_text=gettext_lazy("Absolute path where the switch or mediation puts its files."))
    archive = forms.CharField(label=gettext_lazy("Archive folder"), max_length=500, required=False,
                              help_text=gettext_lazy("Empty: 'archive' next to the inbox."))
    errors = forms.CharField(label=gettext_lazy("Error folder"), max_length=500, required=False,
                             help_text=gettext_lazy("Empty: 'errors' next to the inbox."))
    settle_seconds = forms.IntegerField(label=gettext_lazy("Settle seconds"), min_value=0, max_value=86400,
                                        initial=10, help_text=gettext_lazy(
                                            "A file is taken once it has not changed for this long."))
    pattern = forms.CharField(label=gettext_lazy("File pattern"), max_length=100, initial="*",
                              help_text=gettext_lazy("A glob such as *.csv; hidden, *.tmp, *.part and *.filepart "
                                                     "files are never taken."))
    enabled = forms.BooleanField(label=gettext_lazy("Enabled"), required=False, initial=True)
    pre_rated = forms.BooleanField(label=gettext_lazy("Pre-rated (OCS)"), required=False, help_text=gettext_lazy(
        "Its records were rated by an online charging system: each carries its charge (and, for a prepaid line, "
        "the balance after it), kept as given instead of rated by the tariff."))
    max_charge = forms.DecimalField(label=gettext_lazy("Largest charge"), required=False, min_value=0,
                                    max_digits=18, decimal_places=6, help_text=gettext_lazy(
                                        "The most a pre-priced record (content) of this source may cost; larger "
                                        "and negative charges go to the failed records. Empty: the platform's "
                                        "default (TELORA_USAGE_MAX_CHARGE)."))
    # SFTP pull: empty host, a folder source
    sftp_host = forms.CharField(label=gettext_lazy("SFTP host"), max_length=255, required=False, help_text=gettext_lazy(
        "Empty: files are put in the inbox by others. Set: they are pulled from this SFTP server into the inbox."))
    sftp_port = forms.IntegerField(label=gettext_lazy("SFTP port"), min_value=1, max_value=65535, initial=22,
                                   required=False)
    sftp_user = forms.CharField(label=gettext_lazy("SFTP user"), max_length=100, required=False)
    password = forms.CharField(label=gettext_lazy("Password"), max_length=500, required=False, strip=False,
                               widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                               help_text=gettext_lazy("Write-only: stored encrypted, never shown."))
    private_key = forms.CharField(label=gettext_lazy("Private key"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
                                  help_text=gettext_lazy("An unencrypted OpenSSH or PEM key. Write-only: stored "
                                                         "encrypted, never shown."))
    sftp_path = forms.CharField(label=gettext_lazy("Remote folder"), max_length=500, required=False,
                                help_text=gettext_lazy("Absolute, such as /out; the file pattern above applies."))
    sftp_host_key = forms.CharField(label=gettext_lazy("Host key fingerprint"), max_length=100, required=False,
                                    help_text=gettext_lazy("SHA256:… from the server's administrator (or `telora "
                                                           "sources trust`). A server presenting another key is refused."))
    sftp_after = forms.ChoiceField(label=gettext_lazy("After import"), initial="keep", required=False, choices=[
        ("keep", gettext_lazy("keep the remote file")), ("move", gettext_lazy("move it to the folder below")),
        ("delete", gettext_lazy("delete it"))])
    sftp_after_folder = forms.CharField(label=gettext_lazy("Move to remote folder"), max_length=500, required=False)
    every_minutes = forms.IntegerField(label=gettext_lazy("Pull every (minutes)"), min_value=1, max_value=1440,
                                       initial=1, required=False)

    def __init__(self, *args, credentials_set: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = [(name, f"{name} — {formats.get(name).title}") for name in formats.names()]
        if credentials_set:
            keep = _("Stored encrypted; leave both empty to keep them, or enter new ones (they replace both).")
            self.fields["password"].help_text = keep
            self.fields["private_key"].help_text = keep


def waiting(source: UsageSource) -> int | None:
    """Files in the inbox the collector would take (settled or not); None when it cannot be read."""
    try:
        with os.scandir(source.inbox) as entries:
            return sum(1 for e in entries if is_candidate(e.name, source.pattern) and e.is_file(follow_symlinks=False))
    except OSError:
        return None


class SourceListView(ScopedListView):
    model = UsageSource
    area = AREA
    title = gettext_lazy("Sources")
    template_name = "rating/sources/list.html"

    def get_base_queryset(self):
        return UsageSource.objects.for_user(self.request.user).filter(brand=self.brand).order_by("code")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rows"] = [{"source": s, "waiting": waiting(s)} for s in context["object_list"]]
        context["can_change"] = may(self.request.user, self.brand, "change")
        return context


class SourceFormMixin:
    template_name = "rating/sources/form.html"
    form_class = SourceForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["cancel_url"] = reverse("rating:source_list")
        return context

    def get_success_url(self, result=None):
        return reverse("rating:source_list")


class SourceCreateView(SourceFormMixin, AreaMixin, ServiceFormView):
    area = AREA
    action = "change"
    title = gettext_lazy("New source")

    def perform(self, form, *, actor, at):
        return create_source(self.brand, actor=actor, at=at, **form.cleaned_data)

    def get_success_message(self, result):
        return _("Source %(code)s created.") % {"code": result.code}


class SourceEditView(SourceFormMixin, ScopedObjectMixin, ServiceFormView):
    model = UsageSource
    area = AREA
    required_action = "change"
    context_object_name = "source"

    def get_initial(self):
        return {name: getattr(self.object, name) for name in SOURCE_FIELDS}

    def get_form_kwargs(self):
        return super().get_form_kwargs() | {"credentials_set": bool(self.object.sftp_secret)}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Edit source %(code)s") % {"code": self.object.code}
        return context

    def perform(self, form, *, actor, at):
        return update_source(self.object, actor=actor, at=at, **form.cleaned_data)

    def get_success_message(self, result):
        return _("Source %(code)s saved.") % {"code": result.code}


class SourceScanView(ServiceActionView):
    """Scan now: one collector pass over the source's inbox (and a pull of an SFTP source), in the
    request."""

    model = UsageSource
    area = AREA
    required_action = "change"

    def get_success_url(self):
        return reverse("rating:source_list")

    def post(self, request, *args, **kwargs):
        source = self.object
        try:
            report = collect_source(source, actor=self.actor(), at=clock.now(), pull=True)
        except ServiceError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(self.get_success_url())
        if report.error:
            messages.error(request, _("%(code)s: the %(stage)s failed: %(error)s") % {
                "code": source.code, "stage": report.stage, "error": report.error})
        text = _("%(code)s: %(archived)s taken in, %(refused)s refused, %(waiting)s waiting.") % {
            "code": source.code, "archived": report.archived, "refused": report.refused, "waiting": report.waiting}
        (messages.warning if report.refused else messages.success)(request, text)
        return HttpResponseRedirect(self.get_success_url())
