import builtins

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from properties.models import Property


class Booking(models.Model):
    """A guest's stay at a property over the half-open range [check_in, check_out).

    No two confirmed bookings of one property may overlap. PostgreSQL enforces it with an
    exclusion constraint (migration 0002, btree_gist); on SQLite, booking_create's write
    transaction (BEGIN IMMEDIATE) serializes the check and the insert."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed"
        CANCELLED = "cancelled"

    property = models.ForeignKey(Property, on_delete=models.PROTECT, related_name="bookings")
    guest = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings"
    )
    check_in = models.DateField()
    check_out = models.DateField()
    guests = models.PositiveSmallIntegerField(default=1)
    # The sum of price_lines when the booking was made; later price changes don't touch it.
    total_price = models.DecimalField(max_digits=12, decimal_places=2)
    # rates.pricing.StayPrice.as_json() at booking time: the nights and the line items. Null for
    # bookings made before rates existed (their total was nights x price per night).
    price_lines = models.JSONField(null=True, blank=True, editable=False)
    # The listing's currency when the booking was made (ISO 4217), kept with the amount.
    currency = models.CharField(max_length=3, default="USD")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CONFIRMED)
    # The nights this booking holds (calendars.Hold, the one no-overlap table) while it holds
    # any; a cancelled booking has none.
    hold = models.OneToOneField(
        "calendars.Hold",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="booking",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(check_out__gt=F("check_in")), name="booking_check_out_after_check_in"
            ),
            models.CheckConstraint(
                condition=Q(total_price__gte=0), name="booking_total_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["confirmed", "cancelled"]), name="booking_status_known"
            ),
            models.CheckConstraint(condition=Q(guests__gte=1), name="booking_guests_at_least_one"),
        ]
        indexes = [
            # Overlap checks and availability: confirmed stays of one property by date.
            models.Index(
                "property",
                "check_in",
                "check_out",
                name="booking_confirmed_stay_idx",
                condition=Q(status="confirmed"),
            ),
            # A guest's own list, newest first.
            models.Index(
                "guest", F("created_at").desc(), F("id").desc(), name="booking_guest_newest_idx"
            ),
            models.Index(
                "property",
                F("created_at").desc(),
                F("id").desc(),
                name="booking_property_newest_idx",
            ),
        ]

    def __str__(self):
        # Reads the property's title: callers that list bookings select it with them.
        return f"Booking {self.pk}: {self.property.title}, {self.check_in} → {self.check_out}"

    # `property` is a field name here, so the decorator is spelled out.
    @builtins.property
    def nights(self) -> int:
        return (self.check_out - self.check_in).days


class IdempotencyKey(models.Model):
    """An `Idempotency-Key` a guest sent with POST /api/bookings/, and the booking its request
    made. Unique per (user, key) in the database, so retries racing on several app instances
    queue on one row. Committed rows always have a booking: a request that fails rolls its key
    back with it. Rows older than IDEMPOTENCY_KEY_HOURS are dead and purged by
    `manage.py purge_idempotency_keys`."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the validated request: the same key with another body is refused.
    request_fingerprint = models.CharField(max_length=64)
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, null=True, related_name="+")
    # Set by the service, not auto_now_add: a key reused after expiry starts a new window.
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")
        ]

    def __str__(self):
        return f"{self.user_id}: {self.key}"
