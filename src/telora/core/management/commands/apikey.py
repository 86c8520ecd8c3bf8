"""`telora apikey create|list|rotate|revoke`: API keys from the server's shell, so automation can start
before anyone opens the GUI. Whoever runs it on the server acts as the platform (audited as
`job:apikey`); the token is printed once, on standard output alone with `--quiet`, for scripts."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from telora.core import clock
from telora.core.models import ApiKey, Brand, User
from telora.core.services.actors import Actor, ServiceError
from telora.core.services.users import create_api_key, revoke_api_key, rotate_api_key


def _expiry(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--expires: {text!r} is not an ISO date or time (2027-01-31 or 2027-01-31T08:00+01:00)") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _key(key_id: str) -> ApiKey:
    key = ApiKey.objects.select_related("user").filter(key_id=key_id).first()
    if key is None:
        raise CommandError(f"key: no API key {key_id!r} (see telora apikey list)")
    return key


class Command(BaseCommand):
    help = "Create, list, rotate and revoke API keys."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="a new key; prints its token once")
        create.add_argument("--user", required=True, help="the owner's user name")
        create.add_argument("--name", required=True, help="what the key is for, e.g. 'CRM sync'")
        create.add_argument("--brand", action="append", required=True, help="brand code (repeatable)")
        create.add_argument("--perm", action="append", required=True,
                            help="permission, e.g. customers.view (repeatable)")
        create.add_argument("--expires", help="ISO date or time the key stops working (default: never)")
        create.add_argument("--quiet", action="store_true", help="print the token alone")
        listing = sub.add_parser("list", help="keys with owner, brands, permissions and state")
        listing.add_argument("--user", help="only this user's keys")
        listing.add_argument("--active", action="store_true", help="only keys that work now")
        rotate = sub.add_parser("rotate", help="a new key with the same rights; the old one stops")
        rotate.add_argument("key_id")
        rotate.add_argument("--overlap-minutes", type=int, default=0,
                            help="minutes the old key keeps working (default 0: revoked now)")
        rotate.add_argument("--quiet", action="store_true", help="print the new token alone")
        revoke = sub.add_parser("revoke", help="stop a key now")
        revoke.add_argument("key_id")

    def handle(self, *args, action, **options):
        actor, at = Actor.system("apikey"), clock.now()
        try:
            getattr(self, f"_{action}")(actor, at, **options)
        except ServiceError as exc:
            raise CommandError(exc.message) from None

    def _print_token(self, key: ApiKey, token: str, quiet: bool, verb: str) -> None:
        if quiet:
            self.stdout.write(token)
            return
        self.stdout.write(f"{verb} key {key.key_id} ({key.name}) for {key.user.username}.")
        self.stdout.write(f"Token (shown this once; keep it secret):\n{token}")

    def _create(self, actor, at, *, user, name, brand, perm, expires, quiet, **_):
        owner = User.objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"--user: no user {user!r}")
        brands = []
        for code in dict.fromkeys(brand):
            found = Brand.objects.filter(code__iexact=code).first()
            if found is None:
                raise CommandError(f"--brand: no brand {code!r}")
            brands.append(found)
        expires_at = _expiry(expires)
        if expires_at is not None and expires_at <= at:
            raise CommandError("--expires: give a time in the future")
        key, token = create_api_key(actor=actor, at=at, user=owner, name=name, brands=brands, permissions=perm,
                                    expires_at=expires_at)
        self._print_token(key, token, quiet, "Created")

    def _list(self, actor, at, *, user, active, **_):
        keys = ApiKey.objects.select_related("user").prefetch_related("brands").order_by("-created_at", "pk")
        if user:
            keys = keys.filter(user__username=user)
        if active:
            keys = keys.filter(Q(revoked_at__isnull=True, user__is_active=True),
                               Q(expires_at__isnull=True) | Q(expires_at__gt=at))
        rows = list(keys)
        if not rows:
            self.stdout.write("No API keys.")
            return
        for key in rows:
            if key.revoked_at is not None:
                state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}"
            elif key.expires_at is not None and key.expires_at <= at:
                state = f"expired {key.expires_at:%Y-%m-%d %H:%M}"
            elif not key.user.is_active:
                state = "owner inactive"
            else:
                state = "active" + (f" until {key.expires_at:%Y-%m-%d %H:%M}" if key.expires_at else "")
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
            self.stdout.write(f"{key.key_id}  {key.name}  user={key.user.username}  "
                              f"brands={','.join(sorted(b.code for b in key.brands.all()))}  "
                              f"perms={','.join(key.permissions)}  {state}  last used {used}")

    def _rotate(self, actor, at, *, key_id, overlap_minutes, quiet, **_):
        if overlap_minutes < 0:
            raise CommandError("--overlap-minutes: 0 or more")
        new, token = rotate_api_key(_key(key_id), actor=actor, at=at, overlap=dt.timedelta(minutes=overlap_minutes))
        self._print_token(new, token, quiet, f"Rotated {key_id}: new")

    def _revoke(self, actor, at, *, key_id, **_):
        key = revoke_api_key(_key(key_id), actor=actor, at=at)
        self.stdout.write(f"Revoked key {key.key_id} ({key.name}) of {key.user.username}.")
