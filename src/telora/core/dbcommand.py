"""`telora db start|stop|status|url`: manage the embedded PostgreSQL by hand."""

from __future__ import annotations

import os
import sys


def main(args: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telora.settings")
    from django.conf import settings

    from telora.core import embedded_db

    action = args[0] if args else "status"
    if action in ("-h", "--help") or action not in ("start", "stop", "status", "url"):
        print("usage: telora db start|stop|status|url\n\n"
              "start   start the embedded PostgreSQL and leave it running\n"
              "stop    stop it\nstatus  say whether it runs\nurl     print its connection URL")
        return 0 if action in ("-h", "--help") else 2
    if os.environ.get("DATABASE_URL"):
        print("DATABASE_URL is set: Telora uses that database, not the embedded one.", file=sys.stderr)
        return 1 if action != "url" else (print(os.environ["DATABASE_URL"]) or 0)
    pgdata, port = settings.EMBEDDED_PG_DIR, settings.EMBEDDED_PG_PORT
    if action == "start":
        try:
            server = embedded_db.ensure_running(pgdata, port, stop_at_exit=False)
        except embedded_db.EmbeddedDatabaseError as exc:
            print(f"telora: {exc}", file=sys.stderr)
            return 1
        print(server.url)
    elif action == "stop":
        print("stopped" if embedded_db.stop(pgdata) else "not running")
    elif action == "status":
        running = embedded_db._is_running(pgdata)
        print(f"{'running' if running else 'stopped'} ({pgdata}, port {port})")
        return 0 if running else 3
    else:
        print(f"postgresql://postgres@127.0.0.1:{port}/telora")
    return 0
