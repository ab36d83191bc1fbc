from django.core.management.base import BaseCommand, CommandError

from core.exceptions import DomainError
from core.roles import ALL_ROLES
from grids import accounts


class Command(BaseCommand):
    help = "Create or update a user with a role and the areas they work in."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ALL_ROLES)
        parser.add_argument("--area", action="append", required=True, help="area code; repeat for several")
        parser.add_argument("--password", help="omitted: the user cannot log in with a password")
        parser.add_argument("--name", default="", help="display name")

    def handle(self, *args, **opts):
        try:
            user, created = accounts.add_user(
                None, username=opts["username"], role=opts["role"], area_codes=opts["area"],
                password=opts["password"], display_name=opts["name"],
            )
        except DomainError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items()) or exc.message)
        verb = "created" if created else "updated"
        self.stdout.write(f"{verb} {user.username} role={opts['role']} areas={','.join(opts['area'])}")
