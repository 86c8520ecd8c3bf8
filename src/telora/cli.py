"""The `telora` command: a thin wrapper over Django's management commands.

It starts the embedded PostgreSQL first when DATABASE_URL is unset, so that every command
works on a fresh machine, and stops it on exit if it was the one that started it.
"""

from __future__ import annotations

import os
import sys

TELORA_COMMANDS = {
    "serve": "run the web server (and, with --with-worker, the job worker)",
    "worker": "run a background job worker",
    "migrate": "create or upgrade the database schema",
    "demo": "migrate, load the demo brands and users, and serve them",
    "createuser": "create a user (system administrator or with a role in a brand)",
    "apikey": "API keys for automation (apikey create|list|rotate|revoke)",
    "check": "check the installation",
    "backup": "back up the database, uploaded files and a manifest into one archive",
    "restore": "restore a backup archive into an empty installation",
    "db": "start, stop or show the embedded PostgreSQL (db start|stop|status|url)",
    "config": "apply or export the catalogue as YAML (config apply|export)",
    "inventory": "import SIM cards and numbers from CSV, show stock (inventory import|stats)",
    "cdr": "import usage files (cdr import FILE... --format csv|asterisk|freeswitch|ber)",
    "rate": "rate the pending usage batches of a brand now",
    "failed": "failed usage records: list, show, re-rate, delete (failed list|show|rerate|delete)",
    "rerate": "re-rate a subscription's usage of a period not billed yet",
    "sources": "manage the collector's pull sources (sources add|list|enable|disable|remove)",
    "collect": "take usage files from the sources' inboxes until Ctrl-C (--once: one scan)",
    "billrun": "run billing for a cycle's period (--test drafts or --production invoices)",
    "prepaid": "prepaid renew [--brand B] [--date D]: take the prepaid fees due on a day from the balances",
    "subscription": "sell, change plan, add or end add-ons, terminate; now or --at a past moment",
    "invoices": "export a bill run's invoices (invoices export --run ID --format csv|json)",
    "privacy": "personal data: export or erase a customer, apply retention rules (privacy export|erase|retention)",
    "letters": "the outbox: send due letters, collect SMS receipts, install default templates (letters send|receipts|defaults)",
    "smsc-simulator": "run the SMPP 3.4 SMS centre simulator (for the demo and tests)",
    "provisioning": "provisioning as code and checks (provisioning sequencing export|apply FILE --brand B; provisioning reconcile --brand B [--export FILE.csv])",
    "netsim": "run the network (host operator) provisioning simulator: signed callbacks, faults (for tests, demo)",
    "mail-catcher": "run an SMTP server that keeps every mail it gets in a folder (for the demo)",
    "flows": "BPMN flows: publish a folder, write docs/flows, fire due timers (flows load DIR|doc|wake)",
    "migration": "move a customer base in: migration import DIR|FILE... --brand CODE [--dry-run] "
                 "(or telora migrate import ...)",
}
NO_DATABASE = {"help", "--help", "-h", "version", "--version", "check", "makemigrations", "compilemessages",
               "collectstatic", "smsc_simulator", "mail_catcher", "netsim"}


def _usage() -> str:
    lines = ["usage: telora COMMAND [options]", "", "Commands:"]
    lines += [f"  {name:<11} {text}" for name, text in TELORA_COMMANDS.items()]
    lines += ["", "Every Django management command works too (telora shell, telora dbshell, ...).",
              "`telora COMMAND --help` describes a command's options."]
    return "\n".join(lines)


def _wants_help(argv: list[str]) -> bool:
    return any(arg in ("-h", "--help") for arg in argv[2:])


def start_database():
    """Start the embedded PostgreSQL unless DATABASE_URL names another one. Exits with a clear error."""
    if os.environ.get("DATABASE_URL"):
        return None
    from django.conf import settings

    from telora.core.embedded_db import EmbeddedDatabaseError, ensure_running

    try:
        return ensure_running(settings.EMBEDDED_PG_DIR, settings.EMBEDDED_PG_PORT)
    except EmbeddedDatabaseError as exc:
        sys.stderr.write(f"telora: {exc}\n")
        raise SystemExit(1) from None


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "telora"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telora.settings")
    if len(argv) < 2 or argv[1] in ("help", "-h", "--help"):
        print(_usage())
        return
    if argv[1] in ("version", "--version"):
        from telora import __version__

        print(__version__)
        return
    if argv[1:3] == ["migrate", "import"]:  # not Django's migrate: the migration import
        argv[1] = "migration"
    if argv[1] in ("smsc-simulator", "mail-catcher"):
        argv[1] = argv[1].replace("-", "_")
    command = argv[1]
    if command == "db":
        from telora.core.dbcommand import main as db_main

        raise SystemExit(db_main(argv[2:]))
    if command not in NO_DATABASE and not _wants_help(argv):
        start_database()
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(argv)
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
