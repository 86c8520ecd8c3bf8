"""`telora rate --brand CODE`: rate the pending batches now, in this process (no worker needed)."""

from django.core.management.base import BaseCommand, CommandError

from telora.core.models import Brand
from telora.rating.services import rate_pending


class Command(BaseCommand):
    help = "Rate pending usage batches now (what the workers do), oldest first."

    def add_arguments(self, parser):
        parser.add_argument("--brand", required=True, help="brand code")

    def handle(self, *args, brand, **options):
        found = Brand.objects.filter(code__iexact=brand).first()
        if found is None:
            raise CommandError(f"no brand {brand!r}")
        done = rate_pending(found)
        self.stdout.write(f"{found.code}: {done} batches rated")
