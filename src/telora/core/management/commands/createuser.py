"""`telora createuser`: a system administrator, or a user with a role in a brand."""

import getpass
import sys

from django.core.management.base import BaseCommand, CommandError

from telora.core import clock
from telora.core.models import Brand, Role
from telora.core.services import Actor, ServiceError
from telora.core.services.users import create_user


class Command(BaseCommand):
    help = "Create a user: --superuser for a system administrator, or --brand CODE --role NAME."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--superuser", action="store_true", help="a system administrator (every brand)")
        parser.add_argument("--brand", help="brand code for the user's role")
        parser.add_argument("--role", help="role name (a platform role or one of the brand's roles)")
        parser.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    def handle(self, *args, username, email, superuser, brand, role, password_stdin, **options):
        grants = []
        if bool(brand) != bool(role):
            raise CommandError("--brand and --role go together")
        if brand:
            brand_obj = Brand.objects.filter(code=brand).first()
            if brand_obj is None:
                raise CommandError(f"--brand: unknown brand {brand!r}")
            role_obj = Role.objects.filter(name=role, brand__in=[brand_obj]).first() or Role.objects.filter(
                name=role, brand__isnull=True).first()
            if role_obj is None:
                raise CommandError(f"--role: unknown role {role!r} for brand {brand}")
            grants.append((brand_obj, role_obj))
        elif not superuser:
            raise CommandError("give --superuser, or --brand and --role")
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        elif sys.stdin.isatty():
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the passwords differ")
        else:
            raise CommandError("no terminal to ask the password on: use --password-stdin")
        try:
            user = create_user(actor=Actor.system("createuser"), at=clock.now(), username=username,
                               password=password, email=email, is_superuser=superuser, grants=grants)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"created {user.username}"))
