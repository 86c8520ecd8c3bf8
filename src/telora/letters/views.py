"""Letters on screen: the outbox (filters, a letter's page with its history, PDF, resend), templates
(versions, editor with preview), triggers, the print queue, and the Letters panel on the customer
page (everything sent, ad-hoc letters). Reading needs letters.view; templates and triggers
letters.change; sending, resending and the print queue letters.send. Another brand's rows are 404."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from telora.core import clock, rights
from telora.core.services import ServiceError
from telora.customers.selectors import customers_for_user
from telora.letters import mail_catcher
from telora.letters.forms import AdHocForm, OutboxFilterForm, ResendForm, TemplateForm, TriggerForm
from telora.letters.models import Letter, LetterTemplate, PrintBatch, Trigger
from telora.letters.services import (
    activate,
    make_batch,
    mark_printed,
    queue_letter,
    resend,
    save_template,
    save_trigger,
)
from telora.letters.services.outbox import file_name, letter_pdf
from telora.letters.services.printing import export_to_drop_folder, print_queue
from telora.letters.services.templates import preview
from telora.ui.views.generic import AreaMixin, ScopedDetailView, ScopedListView, ScopedObjectMixin, ShellMixin

AREA = "letters"


def may(user, brand, action: str) -> bool:
    return brand is not None and rights.has_perm(user, brand, f"letters.{action}")


def _errors(request, exc: ServiceError) -> None:
    messages.error(request, exc.message)


# -- outbox ---------------------------------------------------------------------------------------
class OutboxView(ScopedListView):
    model = Letter
    area = AREA
    title = gettext_lazy("Letters: outbox")
    template_name = "letters/outbox.html"
    filter_form_class = OutboxFilterForm
    paginate_by = 50

    def get_base_queryset(self):
        return Letter.objects.for_user(self.request.user).filter(brand=self.brand).select_related("customer") \
            .defer("html", "text")

    def filter_queryset(self, queryset, data):
        if data.get("state"):
            queryset = queryset.filter(state=data["state"])
        if data.get("channel"):
            queryset = queryset.filter(channel=data["channel"])
        if data.get("q"):
            queryset = queryset.filter(Q(recipient__icontains=data["q"]) | Q(subject__icontains=data["q"]))
        return queryset


class LetterView(ScopedDetailView):
    model = Letter
    area = AREA
    title = gettext_lazy("Letter")
    template_name = "letters/letter.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(can_send=may(self.request.user, self.object.brand, "send"), resend_form=ResendForm(),
                       catcher=bool(mail_catcher.folder()), caught=_caught(self.object))
        return context


def _caught(letter: Letter):
    """What the demo's mail catcher received for this e-mail (its Message-ID and recipient), if one runs."""
    if letter.channel != "email" or not letter.provider_ref or mail_catcher.folder() is None:
        return None
    caught = mail_catcher.find(letter.provider_ref)
    if caught is None or letter.recipient.lower() not in caught.envelope_to.lower().split(", "):
        return None
    return caught


class LetterPdfView(ScopedObjectMixin, View):
    model = Letter

    def get(self, request, *args, **kwargs):
        try:
            data = letter_pdf(self.object)
        except Exception as exc:  # noqa: BLE001  (a letter that cannot be laid out: say so, not 500)
            messages.error(request, _("The PDF could not be made: %(error)s") % {"error": exc})
            return HttpResponseRedirect(reverse("letters:letter", args=[self.object.pk]))
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{file_name(self.object)}"'
        return response


class ResendView(ScopedObjectMixin, View):
    model = Letter
    http_method_names = ["post"]

    def check_rights(self) -> None:
        super().check_rights()
        if not may(self.request.user, self.object.brand, "send"):
            raise PermissionDenied

    def post(self, request, *args, **kwargs):
        form = ResendForm(request.POST)
        form.is_valid()
        try:
            copy = resend(self.object, actor=self.actor(), at=clock.now(),
                          recipient=form.cleaned_data.get("recipient") or None)
        except ServiceError as exc:
            _errors(request, exc)
            return HttpResponseRedirect(reverse("letters:letter", args=[self.object.pk]))
        messages.success(request, _("Queued again as letter %(pk)s.") % {"pk": copy.pk})
        return HttpResponseRedirect(reverse("letters:letter", args=[copy.pk]))


# -- templates ------------------------------------------------------------------------------------
class TemplateListView(ScopedListView):
    model = LetterTemplate
    area = AREA
    title = gettext_lazy("Letters: templates")
    template_name = "letters/templates.html"
    paginate_by = 100

    def get_base_queryset(self):
        return LetterTemplate.objects.for_user(self.request.user).filter(brand=self.brand).defer("html", "text")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_change"] = may(self.request.user, self.brand, "change")
        return context


class TemplateEditView(AreaMixin, TemplateView):
    """New template, or a new version of one (`?from=<pk>` prefills it). Buttons: preview (sample
    data, nothing kept) and save (a new version)."""

    area = AREA
    action = "change"
    title = gettext_lazy("Letters: edit a template")
    template_name = "letters/template_edit.html"

    def check_rights(self) -> None:
        super().check_rights()
        if self.brand is None:
            raise PermissionDenied

    def _initial(self) -> dict:
        base = self.request.GET.get("from", "")
        source = LetterTemplate.objects.for_user(self.request.user).filter(
            brand=self.brand, pk=int(base)).first() if base.isdigit() and len(base) < 18 else None
        if source is None:
            return {"language": self.brand.language, "purpose": "service", "activate": True}
        return {"code": source.code, "channel": source.channel, "language": source.language,
                "purpose": source.purpose, "name": source.name, "subject": source.subject, "text": source.text,
                "html": source.html, "attach_invoice": "invoice_pdf" in source.attachments, "activate": True}

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=TemplateForm(initial=self._initial())))

    def post(self, request, *args, **kwargs):
        form = TemplateForm(request.POST)
        rendered = None
        if form.is_valid():
            data = form.cleaned_data
            parts = {"subject": data["subject"], "text": data["text"], "html": data["html"]}
            try:
                if request.POST.get("preview"):
                    rendered = preview(self.brand, channel=data["channel"], language=data["language"], **parts)
                else:
                    template = save_template(
                        self.brand, actor=self.actor(), at=clock.now(), code=data["code"], channel=data["channel"],
                        language=data["language"], purpose=data["purpose"], name=data["name"], note=data["note"],
                        attachments=["invoice_pdf"] if data["attach_invoice"] else [], activate=data["activate"],
                        **parts)
                    messages.success(request, _("Saved as version %(v)s.") % {"v": template.version})
                    return HttpResponseRedirect(reverse("letters:templates"))
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return self.render_to_response(self.get_context_data(form=form, rendered=rendered))


class TemplateDetailView(ScopedDetailView):
    model = LetterTemplate
    area = AREA
    title = gettext_lazy("Letters: template version")
    template_name = "letters/template_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_change"] = may(self.request.user, self.object.brand, "change")
        return context


class TemplateActivateView(ScopedObjectMixin, View):
    model = LetterTemplate
    http_method_names = ["post"]
    required_action = "change"

    def post(self, request, *args, **kwargs):
        try:
            activate(self.object, actor=self.actor(), at=clock.now())
        except ServiceError as exc:
            _errors(request, exc)
        return HttpResponseRedirect(reverse("letters:templates"))


# -- triggers -------------------------------------------------------------------------------------
class TriggerListView(ScopedListView):
    model = Trigger
    area = AREA
    title = gettext_lazy("Letters: triggers")
    template_name = "letters/triggers.html"
    paginate_by = 100

    def get_base_queryset(self):
        return Trigger.objects.for_user(self.request.user).filter(brand=self.brand)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_change"] = may(self.request.user, self.brand, "change")
        return context


class TriggerEditView(AreaMixin, TemplateView):
    """A new trigger, or `pk`'s (another brand's: 404)."""

    area = AREA
    action = "change"
    title = gettext_lazy("Letters: trigger")
    template_name = "letters/trigger_edit.html"

    def check_rights(self) -> None:
        super().check_rights()
        self.trigger = None
        if "pk" in self.kwargs:
            self.trigger = get_object_or_404(Trigger.objects.for_user(self.request.user, "change"),
                                             pk=self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        import json

        initial = {"conditions": "[]", "active": True}
        if self.trigger is not None:
            initial = {"name": self.trigger.name, "event_type": self.trigger.event_type,
                       "template_code": self.trigger.template_code, "channel": self.trigger.channel,
                       "conditions": json.dumps(self.trigger.conditions), "active": self.trigger.active}
        return self.render_to_response(self.get_context_data(form=TriggerForm(initial=initial)))

    def post(self, request, *args, **kwargs):
        form = TriggerForm(request.POST)
        if form.is_valid():
            brand = self.trigger.brand if self.trigger is not None else self.brand
            try:
                save_trigger(brand, actor=self.actor(), at=clock.now(), trigger=self.trigger, **form.cleaned_data)
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("Trigger saved."))
                return HttpResponseRedirect(reverse("letters:triggers"))
        return self.render_to_response(self.get_context_data(form=form))


# -- print queue ----------------------------------------------------------------------------------
class PrintQueueView(AreaMixin, TemplateView):
    area = AREA
    title = gettext_lazy("Letters: print queue")
    template_name = "letters/print_queue.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(waiting=print_queue(self.brand).select_related("customer")[:200] if self.brand else [],
                       waiting_count=print_queue(self.brand).count() if self.brand else 0,
                       batches=PrintBatch.objects.for_user(self.request.user).filter(brand=self.brand)[:50],
                       can_send=may(self.request.user, self.brand, "send"))
        return context

    def post(self, request, *args, **kwargs):
        if not may(request.user, self.brand, "send"):
            raise PermissionDenied
        try:
            batch = make_batch(self.brand, actor=self.actor(), at=clock.now())
        except ServiceError as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("Batch %(n)s made with %(c)s letters.") % {"n": batch.number,
                                                                                  "c": batch.letters_count})
        return HttpResponseRedirect(reverse("letters:print_queue"))


class BatchMixin(ScopedObjectMixin):
    model = PrintBatch

    def check_rights(self) -> None:
        super().check_rights()
        if not may(self.request.user, self.object.brand, "send"):
            raise PermissionDenied


class BatchFileView(BatchMixin, View):
    def get(self, request, *args, **kwargs):
        if kwargs["kind"] not in ("pdf", "csv"):
            raise Http404
        name = self.object.manifest if kwargs["kind"] == "csv" else self.object.pdf
        content_type = "text/csv" if kwargs["kind"] == "csv" else "application/pdf"
        return FileResponse(default_storage.open(name, "rb"), as_attachment=True, content_type=content_type,
                            filename=name.rsplit("/", 1)[-1])


class BatchActionView(BatchMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        if kwargs["action"] not in ("printed", "export"):
            raise Http404
        try:
            if kwargs["action"] == "printed":
                mark_printed(self.object, actor=self.actor(), at=clock.now())
                messages.success(request, _("Marked printed."))
            else:
                export_to_drop_folder(self.object, actor=self.actor(), at=clock.now())
                messages.success(request, _("Written to the print house's drop folder."))
        except ServiceError as exc:
            _errors(request, exc)
        return HttpResponseRedirect(reverse("letters:print_queue"))


# -- the customer page ----------------------------------------------------------------------------
def customer_panel(request, customer):
    """The customer page's Letters card: everything sent to the customer, newest first."""
    user = request.user
    if not rights.has_perm(user, customer.brand, "letters.view"):
        return None
    return "letters/_panel.html", {
        "customer": customer,
        "letters": Letter.objects.filter(customer=customer).defer("html")[:50],
        "can_send": rights.has_perm(user, customer.brand, "letters.send"),
        "form": AdHocForm(),
        "codes": sorted(set(LetterTemplate.objects.filter(brand=customer.brand, active=True)
                            .values_list("code", flat=True))),
    }


class AdHocView(ShellMixin, View):
    """An ad-hoc letter from the customer page: a template, or a text the CSR writes (checked like one)."""

    http_method_names = ["post"]

    def check_rights(self) -> None:
        self.customer = get_object_or_404(customers_for_user(self.request.user), pk=self.kwargs["pk"])
        if not may(self.request.user, self.customer.brand, "send"):
            raise PermissionDenied

    def post(self, request, *args, **kwargs):
        back = HttpResponseRedirect(reverse("customers:customer_detail", args=[self.customer.pk]))
        form = AdHocForm(request.POST)
        if not form.is_valid():
            messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
            return back
        data = form.cleaned_data
        values = {"template_code": data["template_code"]} if data["template_code"] else {
            "parts": {"subject": data["subject"], "text": data["text"],
                      "html": "" if data["channel"] != "print" else data["text"]}}
        if not data["template_code"] and not data["text"].strip():
            messages.error(request, _("text: write the letter or pick a template"))
            return back
        try:
            letter = queue_letter(self.customer.brand, actor=self.actor(), at=clock.now(),
                                  key=f"adhoc:{uuid.uuid4().hex}", customer=self.customer, channel=data["channel"],
                                  recipient=data["recipient"] or None, check_recipient=True, **values)
        except ServiceError as exc:
            _errors(request, exc)
            return back
        if letter.state == "failed":
            messages.error(request, _("The letter failed: %(e)s") % {"e": letter.error})
        else:
            messages.success(request, _("Letter queued."))
        return back
