from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.services import expired_tokens_purge


class Command(BaseCommand):
    help = "Delete expired entries of the access-token denylist and of simplejwt's blacklist."

    def handle(self, *args, **options):
        purged = expired_tokens_purge()
        # simplejwt's own command drops expired outstanding/blacklisted refresh tokens.
        call_command("flushexpiredtokens")
        self.stdout.write(f"Purged {purged} expired revoked access tokens.")
