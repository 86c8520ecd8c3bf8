"""`telora privacy export CUSTOMER [--out FILE]`, `telora privacy erase CUSTOMER --yes`,
`telora privacy retention [--brand CODE]`: the data-protection jobs run now, in this process, as the
platform (audited as `job:privacy`). CUSTOMER is a customer number (or id); --brand where numbers repeat."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from telora.core import clock
from telora.core.models import Brand, Job
from telora.core.services.actors import Actor, ServiceError
from telora.core.services.jobs import execute
from telora.customers.models import Customer
from telora.privacy.services import apply_retention, start_erasure, start_export


def _customer(value: str, brand: str | None) -> Customer:
    rows = Customer.objects.select_related("brand")
    if brand:
        rows = rows.filter(brand__code=brand)
    found = list(rows.filter(number=value)[:2]) or (list(rows.filter(pk=int(value))) if value.isdigit() else [])
    if not found:
        raise CommandError(f"customer: no customer {value!r}" + (f" in brand {brand}" if brand else ""))
    if len(found) > 1:
        raise CommandError(f"customer: {value!r} is a number in several brands; give --brand")
    return found[0]


class Command(BaseCommand):
    help = "Export or erase a customer's personal data, or apply the brands' retention rules now."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="everything held about a customer: JSON, PDF and files in a zip")
        export.add_argument("customer", help="customer number (or id)")
        export.add_argument("--brand", help="brand code, where customer numbers repeat across brands")
        export.add_argument("--out", help="copy the zip here (default: print its path under MEDIA_ROOT)")
        erase = sub.add_parser("erase", help="anonymise a customer (invoices and ledgers are kept)")
        erase.add_argument("customer", help="customer number (or id)")
        erase.add_argument("--brand", help="brand code, where customer numbers repeat across brands")
        erase.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
        retention = sub.add_parser("retention", help="apply the retention rules now")
        retention.add_argument("--brand", help="one brand's code (default: every brand with rules)")

    def handle(self, *args, action, **options):
        actor, at = Actor.system("privacy"), clock.now()
        try:
            if action == "export":
                self._export(actor, at, **options)
            elif action == "erase":
                self._erase(actor, at, **options)
            else:
                self._retention(actor, at, **options)
        except ServiceError as exc:
            raise CommandError(exc.message) from None

    def _run(self, job: Job) -> Job:
        job = execute(job.pk)
        if job.status != Job.Status.SUCCEEDED:
            raise CommandError(f"job {job.pk} failed: {job.error.splitlines()[0] if job.error else 'no error text'}")
        return job

    def _export(self, actor, at, *, customer, brand, out, **_):
        job = self._run(start_export(_customer(customer, brand), actor=actor, at=at))
        path = Path(settings.MEDIA_ROOT) / job.result["file"]
        if out:
            shutil.copyfile(path, out)
            path = Path(out)
        self.stdout.write(f"{path}\n")

    def _erase(self, actor, at, *, customer, brand, yes, **_):
        if not yes:
            raise CommandError("erase: give --yes to confirm (the customer's personal data cannot be restored)")
        found = _customer(customer, brand)
        job = self._run(start_erasure(found, actor=actor, at=at))
        self.stdout.write(f"customer {found.number} erased: "
                          + ", ".join(f"{k} {v}" for k, v in sorted(job.result.items()) if k != "erasure") + "\n")

    def _retention(self, actor, at, *, brand, **_):
        from telora.privacy.models import RetentionPolicy

        brands = Brand.objects.filter(pk__in=RetentionPolicy.objects.values("brand_id")).order_by("code")
        if brand:
            brands = brands.filter(code=brand)
            if not brands.exists():
                raise CommandError(f"--brand: {brand!r} has no retention rules")
        for row in brands:
            counts = apply_retention(row, actor=actor, at=at)
            self.stdout.write(f"{row.code}: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + "\n")
