from django.core.management.base import BaseCommand

from bookings.services import booking_requests_expire


class Command(BaseCommand):
    help = (
        "Store as expired the booking requests past their deadline (run it every few minutes; "
        "reads and writes already treat them as expired without it)."
    )

    def handle(self, *args, **options):
        expired = booking_requests_expire()
        self.stdout.write(f"Expired {expired} booking requests.")
