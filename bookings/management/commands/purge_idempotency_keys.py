from django.core.management.base import BaseCommand

from bookings.services import idempotency_keys_purge


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than IDEMPOTENCY_KEY_HOURS (run it daily)."

    def handle(self, *args, **options):
        purged = idempotency_keys_purge()
        self.stdout.write(f"Purged {purged} expired idempotency keys.")
