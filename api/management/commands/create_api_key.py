"""Make an API key for an organisation from the shell (a deployment script, a first
integration). The key is printed once, last on its line; only its SHA-256 is kept."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.management.organisations import organisation_or_error
from accounts.models import User
from accounts.roles import Role
from api.scopes import Scope
from api.services import api_key_create


class Command(BaseCommand):
    help = "Make an API key for an organisation; the key is printed once, last on its line."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="the organisation's slug")
        parser.add_argument("--name", required=True, help="which system will use the key")
        parser.add_argument(
            "--scope",
            action="append",
            choices=Scope.values,
            help="what the key may do (repeat it; default: consents:read)",
        )
        parser.add_argument(
            "--dpo", help="e-mail of the DPO the key is made for (default: the first)"
        )

    def handle(self, *args, org, name, scope, dpo, **options):
        organisation = organisation_or_error(org)
        dpos = User.objects.filter(
            memberships__organisation=organisation, memberships__role=Role.DPO
        ).order_by("pk")
        if dpo:
            dpos = dpos.filter(email__iexact=dpo)
        user = dpos.first()
        if user is None:
            raise CommandError(f"{organisation.slug} has no DPO {dpo or ''}".strip())
        try:
            key, plaintext = api_key_create(
                organisation=organisation,
                name=name,
                scopes=scope or [Scope.CONSENT_READ],
                user=user,
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            f"API key {key.prefix}… for {organisation.slug} ({', '.join(key.scopes)}),"
            f" shown once: {plaintext}"
        )
