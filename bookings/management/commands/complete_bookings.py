from django.core.management.base import BaseCommand

from bookings.services import booking_stays_complete


class Command(BaseCommand):
    help = (
        "Store as completed the confirmed stays whose check-out day has come in their "
        "listing's time zone (run it every 15 minutes; reads already show them completed)."
    )

    def handle(self, *args, **options):
        completed = booking_stays_complete()
        self.stdout.write(f"Completed {completed} stays.")
