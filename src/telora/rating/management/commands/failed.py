"""`telora failed list|show|rerate|delete`: the failed-records log of a brand from the shell.

    telora failed list --brand CODE [--reason R] [--status open|rerated|deleted|all] [--source S] [--file ID]
                       [--limit 50]
    telora failed show ID
    telora failed rerate --brand CODE (--id N [N ...] | --reason R [--source S]) [--now]
    telora failed delete --brand CODE (--id N [N ...] | --reason R [--source S]) --yes
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError
from telora.rating.engine import FAILURE_REASONS
from telora.rating.models import FAILED_STATUSES, FailedRecord
from telora.rating.selectors import failed_records

COLUMNS = (("id", 8), ("failed at", 16), ("reason", 21), ("status", 8), ("source", 12), ("file", 6),
           ("record id", 20), ("a-number", 14), ("detail", 0))


def _cut(text, width: int) -> str:
    text = str(text).replace("\n", " ")
    if not width:
        return text
    return text if len(text) <= width else text[:width - 1] + "…"


class Command(BaseCommand):
    help = "Failed usage records: list, show, re-rate (after fixing the catalogue or subscription), delete."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="list|show|rerate|delete")
        listing = sub.add_parser("list", help="list failed records, newest first")
        listing.add_argument("--brand", required=True, help="brand code")
        listing.add_argument("--reason", help=f"only this reason ({', '.join(FAILURE_REASONS)})")
        listing.add_argument("--status", default="open", choices=[*FAILED_STATUSES, "all"],
                             help="open (default), rerated, deleted or all")
        listing.add_argument("--source", help="only records of this source")
        listing.add_argument("--file", type=int, help="only records of this usage file (id)")
        listing.add_argument("--limit", type=int, default=50, help="at most this many rows (default 50)")
        show = sub.add_parser("show", help="one failed record with its original fields (or text)")
        show.add_argument("id", type=int)
        rerate = sub.add_parser("rerate", help="take open failed records in again, to be rated on today's "
                                               "catalogue and subscriptions (PARSE_ERROR and DUPLICATE are skipped)")
        rerate.add_argument("--brand", required=True, help="brand code")
        self._choice(rerate)
        rerate.add_argument("--now", action="store_true", help="rate here and now instead of by the workers")
        delete = sub.add_parser("delete", help="mark open failed records deleted (kept for the audit trail)")
        delete.add_argument("--brand", required=True, help="brand code")
        self._choice(delete)
        delete.add_argument("--yes", action="store_true", help="really delete (required)")

    @staticmethod
    def _choice(parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--id", type=int, nargs="+", action="extend", dest="ids", metavar="N",
                           help="these failed records (ids)")
        which.add_argument("--reason", help="every open failed record with this reason")
        parser.add_argument("--source", help="with --reason: only records of this source")

    def handle(self, *args, action, **options):
        if action == "show":
            return self._show(options["id"])
        brand = Brand.objects.filter(code__iexact=options["brand"]).first()
        if brand is None:
            raise CommandError(f"no brand {options['brand']!r}")
        if action == "list":
            return self._list(brand, options)
        ids = self._ids(brand, options)
        actor = Actor.system(f"failed {action}")
        try:
            if action == "rerate":
                return self._rerate(brand, ids, actor, now=options["now"])
            if not options["yes"]:
                raise CommandError(f"{len(ids)} failed records would be deleted: add --yes to delete them")
            from telora.rating.services.failed import delete_failed

            done = delete_failed(brand, ids, actor=actor, at=clock.now()) if ids else 0
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{brand.code}: {done} failed records deleted")

    def _ids(self, brand: Brand, options) -> list[int]:
        if options.get("ids"):
            if options.get("source"):
                raise CommandError("--source: goes with --reason, not with --id")
            return options["ids"]
        reason = options["reason"]
        if reason not in FAILURE_REASONS:
            raise CommandError(f"--reason: {reason!r} is not one of {', '.join(FAILURE_REASONS)}")
        return list(failed_records(brand, reason=reason, source=options.get("source")).values_list("pk", flat=True))

    def _rerate(self, brand: Brand, ids: list[int], actor: Actor, *, now: bool) -> None:
        from telora.rating.services.failed import rerate_failed

        if not ids:
            self.stdout.write(f"{brand.code}: no open failed records to re-rate")
            return
        result = rerate_failed(brand, ids, actor=actor, at=clock.now(), defer=not now)
        skipped = ", ".join(f"{count} {reason}" for reason, count in sorted(result["skipped"].items()))
        line = f"{brand.code}: {result['requeued']} re-rated"
        if skipped:
            line += f", skipped {skipped}"
        if result["missing"]:
            line += f", not open in {brand.code}: {' '.join(str(i) for i in result['missing'])}"
        if now:
            line += f"; rated {result.get('rated', 0)}, failed again {result.get('failed', 0)}"
        elif result["files"]:
            line += "; rating queued for the workers"
        self.stdout.write(line)

    def _list(self, brand: Brand, options) -> None:
        reason, status, limit = options["reason"], options["status"], options["limit"]
        if reason and reason not in FAILURE_REASONS:
            raise CommandError(f"--reason: {reason!r} is not one of {', '.join(FAILURE_REASONS)}")
        rows = failed_records(brand, reason=reason, status=status, source=options["source"], file=options["file"])
        total = rows.count()
        lines = ["  ".join(f"{title:<{width}}" if width else title for title, width in COLUMNS).rstrip()]
        for row in rows[:max(limit, 0)]:
            original = row.original if isinstance(row.original, dict) else {}
            values = (row.pk, clock.localtime(row.created_at, brand).strftime("%Y-%m-%d %H:%M"),
                      row.reason, row.status, row.source, row.file_id or "", row.record_id,
                      original.get("a_number", ""), row.detail)
            lines.append("  ".join(f"{_cut(v, w):<{w}}" if w else _cut(v, 0)
                                   for v, (_t, w) in zip(values, COLUMNS, strict=True)).rstrip())
        self.stdout.write("\n".join(lines))
        shown = min(total, max(limit, 0))
        self.stdout.write(f"{shown} of {total} failed records ({status})")

    def _show(self, pk: int) -> None:
        row = FailedRecord.objects.select_related("brand", "file").filter(pk=pk).first()
        if row is None:
            raise CommandError(f"no failed record {pk}")
        fields = [("id", row.pk), ("brand", row.brand.code), ("status", row.status), ("reason", row.reason),
                  ("detail", row.detail), ("source", row.source), ("record id", row.record_id),
                  ("file", f"{row.file_id} ({row.file})" if row.file_id else ""), ("line", row.line),
                  ("failed at", clock.localtime(row.created_at, row.brand).isoformat())]
        out = [f"{name + ':':<11} {value}" for name, value in fields]
        original = row.original if isinstance(row.original, dict) else {}
        if set(original) == {"text"}:
            out.append("original text:")
            out.append(f"  {original['text']}")
        else:
            out.append("original:")
            out += [f"  {name}: {json.dumps(value) if not isinstance(value, str) else value}"
                    for name, value in original.items()]
        self.stdout.write("\n".join(out))
