from django.db import models
from django.db.models import F, Q

from properties.models import Property


class Hold(models.Model):
    """Nights [start, end) of one listing held by exactly one thing: a guest's stay or pending
    request (bookings.Booking.hold), a host's block, or an event imported from another platform's
    calendar. Every kind of hold lives in this one table so that one rule covers them all: no
    night of a listing is held twice.

    PostgreSQL enforces it with an exclusion constraint (migration 0002, btree_gist), whatever
    code path writes; on SQLite the services' write transaction (BEGIN IMMEDIATE) serializes the
    check and the write. A pending request's hold carries `expires_at`: past it the hold is void
    (it never blocks anyone), and the next write on the listing deletes it."""

    class Kind(models.TextChoices):
        BOOKING = "booking"
        BLOCK = "block"
        IMPORT = "import"

    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="holds")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    start = models.DateField()
    end = models.DateField()
    # A block's private note, for its host only (never in a public calendar or a feed).
    note = models.CharField(max_length=500, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="hold_end_after_start"),
            models.CheckConstraint(
                condition=Q(kind__in=["booking", "block", "import"]), name="hold_kind_known"
            ),
            # Only a guest's pending request is ever void after a while.
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(kind="booking"),
                name="hold_expiry_only_for_bookings",
            ),
        ]
        indexes = [
            # Overlap checks, the calendar and the availability search: one listing's holds by date.
            models.Index("property", "start", "end", name="hold_property_dates_idx"),
            # Void requests are found and deleted by expiry time.
            models.Index(
                "expires_at", name="hold_expiring_idx", condition=Q(expires_at__isnull=False)
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.start} → {self.end}"
