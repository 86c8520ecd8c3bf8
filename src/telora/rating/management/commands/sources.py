"""`telora sources add|list|enable|disable|remove|trust|test`: the pull sources the collector takes
files from (inbox folders, and SFTP servers whose files are pulled into the inbox first)."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError
from telora.rating import formats
from telora.rating.models import UsageSource
from telora.rating.services.collector import create_source, delete_source, update_source
from telora.rating.services.pull import preview, trust_host_key


class Command(BaseCommand):
    help = "Manage the pull sources (inbox folders) of the collector."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add a source")
        add.add_argument("--brand", required=True, help="brand code")
        add.add_argument("--code", required=True, help="the source's name (the `source` of its files)")
        add.add_argument("--format", required=True, help=f"one of {', '.join(formats.names())}")
        add.add_argument("--inbox", required=True, metavar="DIR", help="absolute path of the inbox folder")
        add.add_argument("--archive", default="", metavar="DIR", help="default: 'archive' next to the inbox")
        add.add_argument("--errors", default="", metavar="DIR", help="default: 'errors' next to the inbox")
        add.add_argument("--settle", type=int, default=10, metavar="N",
                         help="seconds a file must be left unchanged before it is taken (default 10)")
        add.add_argument("--pattern", default="*", metavar="GLOB", help="file names to take (default *)")
        add.add_argument("--pre-rated", action="store_true",
                         help="an OCS source: its records carry their charge (and balance after), kept as given")
        add.add_argument("--max-charge", default=None, metavar="AMOUNT",
                         help="the most a pre-priced record may cost (default TELORA_USAGE_MAX_CHARGE)")
        sftp = add.add_argument_group("SFTP pull (files are downloaded into the inbox, then taken in)")
        sftp.add_argument("--sftp", metavar="HOST[:PORT]", help="the SFTP server (port 22 by default)")
        sftp.add_argument("--user", default="", help="the SFTP user")
        sftp.add_argument("--path", default="", metavar="/REMOTE", help="the remote folder to take files from")
        secret = sftp.add_mutually_exclusive_group()
        secret.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
        secret.add_argument("--key-file", metavar="FILE", help="an unencrypted OpenSSH or PEM private key")
        sftp.add_argument("--after", default="keep", metavar="move:/DIR|delete|keep",
                          help="what happens to a remote file once taken in (default keep)")
        sftp.add_argument("--every", type=int, default=1, metavar="MINUTES", help="pull every N minutes (default 1)")
        sftp.add_argument("--host-key", default="", metavar="SHA256:...",
                          help="the server's host key fingerprint, from its administrator")
        sftp.add_argument("--trust-host-key", action="store_true",
                          help="trust the host key the server presents now (trust on first use)")
        listing = sub.add_parser("list", help="list the sources")
        listing.add_argument("--brand", help="brand code")
        for name, text in (("enable", "let the collector take the source's files"),
                           ("disable", "stop taking the source's files"), ("remove", "remove the source")):
            one = sub.add_parser(name, help=text)
            one.add_argument("--brand", required=True, help="brand code")
            one.add_argument("--code", required=True, help="the source's name")
        trust = sub.add_parser("trust", help="pin the host key an SFTP source's server presents now")
        trust.add_argument("--brand", required=True, help="brand code")
        trust.add_argument("--code", required=True, help="the source's name")
        trust.add_argument("--fingerprint", default="", metavar="SHA256:...",
                           help="trust only if the server presents this key")
        test = sub.add_parser("test", help="connect to an SFTP source, list it and show what would be fetched")
        test.add_argument("--brand", required=True, help="brand code")
        test.add_argument("--code", required=True, help="the source's name")

    def handle(self, *args, action, **options):
        actor = Actor.system("sources")
        brand = self._brand(options["brand"]) if options.get("brand") else None
        try:
            if action == "add":
                source = create_source(brand, actor=actor, at=clock.now(), code=options["code"],
                                       format=options["format"], inbox=options["inbox"], archive=options["archive"],
                                       errors=options["errors"], settle_seconds=options["settle"],
                                       pattern=options["pattern"], max_charge=options["max_charge"],
                                       pre_rated=options["pre_rated"],
                                       **self._sftp(options))
                self.stdout.write(f"{brand.code}/{source.code}: {source.format} from {source.inbox} "
                                  f"(archive {source.archive}, errors {source.errors})")
                if source.is_sftp:
                    self.stdout.write(f"  pulled every {source.every_minutes} min from sftp://{source.sftp_user}@"
                                      f"{source.sftp_host}:{source.sftp_port}{source.sftp_path}, then "
                                      f"{self._after(source)}")
                    if options["trust_host_key"]:
                        self.stdout.write(f"  host key trusted: {trust_host_key(source, actor=actor, at=clock.now())}")
                    elif not source.sftp_host_key:
                        self.stdout.write("  no host key trusted yet: run `telora sources trust` before it pulls")
            elif action == "list":
                self._list(brand)
            else:
                source = UsageSource.objects.filter(brand=brand, code=options["code"]).first()
                if source is None:
                    raise CommandError(f"{brand.code} has no source {options['code']!r}")
                if action == "trust":
                    found = trust_host_key(source, actor=actor, at=clock.now(), fingerprint=options["fingerprint"])
                    self.stdout.write(f"{brand.code}/{source.code}: host key {found} trusted")
                elif action == "test":
                    self._test(source)
                elif action == "remove":
                    delete_source(source, actor=actor, at=clock.now())
                    self.stdout.write(f"{brand.code}/{options['code']}: removed (its folders are left as they are)")
                else:
                    update_source(source, actor=actor, at=clock.now(), enabled=action == "enable")
                    self.stdout.write(f"{brand.code}/{source.code}: {action}d")
        except ServiceError as exc:
            raise CommandError(exc.message) from None

    def _sftp(self, options) -> dict:
        """The SFTP fields of `sources add` (none without --sftp)."""
        if not options.get("sftp"):
            if options["user"] or options["path"] or options["password_stdin"] or options["key_file"]:
                raise CommandError("--user, --path, --password-stdin and --key-file need --sftp HOST[:PORT]")
            return {}
        host, _, port = options["sftp"].rpartition(":") if options["sftp"].count(":") == 1 else (options["sftp"], "", "")
        after, _, folder = options["after"].partition(":")
        values = {"sftp_host": host, "sftp_port": port or 22, "sftp_user": options["user"], "sftp_path": options["path"],
                  "sftp_after": after, "sftp_after_folder": folder, "every_minutes": options["every"],
                  "sftp_host_key": options["host_key"]}
        if options["password_stdin"]:
            values["password"] = sys.stdin.readline().rstrip("\r\n")
            if not values["password"]:
                raise CommandError("--password-stdin: no password on standard input")
        elif options["key_file"]:
            try:
                values["private_key"] = Path(options["key_file"]).read_text()
            except OSError as exc:
                raise CommandError(f"--key-file: {exc.strerror}: {options['key_file']}") from None
        else:
            raise CommandError("--sftp needs --password-stdin or --key-file")
        return values

    @staticmethod
    def _after(source) -> str:
        return {"move": f"moved to {source.sftp_after_folder}", "delete": "deleted"}.get(source.sftp_after, "kept")

    def _test(self, source) -> None:
        if not source.is_sftp:
            raise CommandError(f"{source.brand.code}/{source.code} is not an SFTP source")
        entries = preview(source)
        self.stdout.write(f"{source.brand.code}/{source.code}: connected to {source.sftp_host}:{source.sftp_port} "
                          f"(host key {source.sftp_host_key}), {source.sftp_path}: {len(entries)} file(s) "
                          f"matching {source.pattern}")
        for entry, state in entries:
            what = {"fetch": "would be fetched", "seen": "fetched before"}.get(state, "still settling")
            self.stdout.write(f"  {entry.name}  {entry.size} bytes  {what}")

    def _brand(self, code: str) -> Brand:
        found = Brand.objects.filter(code__iexact=code).first()
        if found is None:
            raise CommandError(f"no brand {code!r}")
        return found

    def _list(self, brand) -> None:
        sources = UsageSource.objects.select_related("brand").order_by("brand__code", "code")
        if brand is not None:
            sources = sources.filter(brand=brand)
        if not sources:
            self.stdout.write("no sources")
            return
        for s in sources:
            state = ("enabled" if s.enabled else "disabled") + (", pre-rated" if s.pre_rated else "")
            scanned = f"last scan {s.last_scan_at:%Y-%m-%d %H:%M:%S}" if s.last_scan_at else "never scanned"
            self.stdout.write(f"{s.brand.code}/{s.code}  {s.format}  {state}  {s.inbox}  pattern {s.pattern}  "
                              f"settle {s.settle_seconds}s  {scanned}")
            if s.is_sftp:
                key = s.sftp_host_key or "no host key trusted"
                self.stdout.write(f"    sftp://{s.sftp_user}@{s.sftp_host}:{s.sftp_port}{s.sftp_path} every "
                                  f"{s.every_minutes} min, then {self._after(s)}; {key}")
            if s.last_error:
                self.stdout.write(f"    last error: {s.last_error}")
