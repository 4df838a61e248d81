import builtins

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from properties.models import CancellationPolicy, Property

PENDING, CONFIRMED, DECLINED, EXPIRED, CANCELLED, COMPLETED = (
    "pending",
    "confirmed",
    "declined",
    "expired",
    "cancelled",
    "completed",
)


class Booking(models.Model):
    """A guest's stay at a property over the half-open range [check_in, check_out).

    Lifecycle (docs/booking-lifecycle.md; the one transition table is bookings/transitions.py):
    a listing with instant booking confirms at once; otherwise the booking is a `pending`
    request that the host accepts (`confirmed`) or declines (`declined`), or that lapses at
    `expires_at` (`expired`). A confirmed stay is `cancelled` by its guest or host, or
    `completed` once its check-out day has come in the listing's time zone. Reads derive
    `expired` and `completed` from the clock (bookings.selectors.booking_status_q) before any
    job stores them. The check constraints below tie each state to the fields it requires.

    Confirmed (and completed) stays and live requests hold their nights through `hold`
    (calendars.Hold, the one no-overlap table); declined, expired and cancelled bookings hold
    none. A request's hold lapses at `expires_at` even if no job runs: calendar writes delete
    void holds (then `hold` is NULL while the row still says pending, and reads say expired)."""

    class Status(models.TextChoices):
        PENDING = PENDING, "pending: a request awaiting the host, holding its nights"
        CONFIRMED = CONFIRMED, "confirmed: the stay is booked"
        DECLINED = DECLINED, "declined: the host refused the request"
        EXPIRED = EXPIRED, "expired: the host did not answer the request in time"
        CANCELLED = CANCELLED, "cancelled: by the guest or the host, see cancelled_by"
        COMPLETED = COMPLETED, "completed: the check-out day has come"

    class Party(models.TextChoices):
        GUEST = "guest"
        HOST = "host"

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
    # A request's deadline: past it the request is expired, whether or not a job stored it.
    expires_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(max_length=5, choices=Party.choices, blank=True, default="")
    # The listing's cancellation policy when the booking was made: the host changing it later
    # does not change what cancelling this booking refunds.
    cancellation_policy = models.CharField(
        max_length=10,
        choices=CancellationPolicy.choices,
        default=CancellationPolicy.FLEXIBLE,
        db_default=CancellationPolicy.FLEXIBLE,
    )
    # The earliest check-in this booking has had: the policy's deadlines count from it, so
    # moving a stay later never restarts them (null: check_in itself).
    policy_check_in = models.DateField(null=True, blank=True, editable=False)
    # What cancelling gave back and kept (refund_amount + cancellation_fee == total_price).
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    cancellation_fee = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(check_out__gt=F("check_in")), name="booking_check_out_after_check_in"
            ),
            models.CheckConstraint(
                condition=Q(total_price__gte=0), name="booking_total_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[PENDING, CONFIRMED, DECLINED, EXPIRED, CANCELLED, COMPLETED]
                ),
                name="booking_status_known",
            ),
            models.CheckConstraint(condition=Q(guests__gte=1), name="booking_guests_at_least_one"),
            # A request (and a lapsed one) has its deadline; a booked stay has none.
            models.CheckConstraint(
                condition=Q(status__in=[PENDING, EXPIRED], expires_at__isnull=False)
                | Q(status__in=[CONFIRMED, COMPLETED], expires_at__isnull=True)
                | Q(status__in=[DECLINED, CANCELLED]),
                name="booking_expires_at_matches_status",
            ),
            # A cancellation records when, by whom and the money; nothing else has them.
            models.CheckConstraint(
                condition=Q(
                    status=CANCELLED,
                    cancelled_at__isnull=False,
                    cancelled_by__in=["guest", "host"],
                    # NULL >= 0 is unknown, which a CHECK lets through: hence the isnull.
                    refund_amount__isnull=False,
                    refund_amount__gte=0,
                    cancellation_fee__isnull=False,
                    cancellation_fee__gte=0,
                )
                | (
                    ~Q(status=CANCELLED)
                    & Q(
                        cancelled_at__isnull=True,
                        cancelled_by="",
                        refund_amount__isnull=True,
                        cancellation_fee__isnull=True,
                    )
                ),
                name="booking_cancellation_fields_match_status",
            ),
        ]
        indexes = [
            # Overlap checks and availability: stays holding nights of one property by date.
            models.Index(
                "property",
                "check_in",
                "check_out",
                name="booking_holding_stay_idx",
                condition=Q(status__in=[PENDING, CONFIRMED]),
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


class BookingTransition(models.Model):
    """One change of a booking's state: who (a user, or none for the system's clock), when,
    from, to and why. Written only by bookings.transitions.booking_transition; the booking's
    history, oldest first. The first row of each booking has from_status "" (its creation)."""

    class Actor(models.TextChoices):
        GUEST = "guest"
        HOST = "host"
        SYSTEM = "system"

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=10, blank=True, choices=Booking.Status.choices)
    to_status = models.CharField(max_length=10, choices=Booking.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_role = models.CharField(max_length=6, choices=Actor.choices)
    reason = models.TextField(max_length=1000, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_status=F("to_status")), name="booking_transition_changes_state"
            ),
        ]
        indexes = [models.Index("booking", "created_at", "id", name="booking_transition_idx")]

    def __str__(self):
        return f"{self.booking_id}: {self.from_status or '-'} → {self.to_status}"


class BookingRevision(models.Model):
    """One change of a confirmed booking's dates or guests (PATCH /api/bookings/{id}/): the
    stay and price before and after. The booking row holds the current values."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="revisions")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    old_check_in = models.DateField()
    old_check_out = models.DateField()
    old_guests = models.PositiveSmallIntegerField()
    old_total_price = models.DecimalField(max_digits=12, decimal_places=2)
    old_price_lines = models.JSONField(null=True, blank=True)
    new_check_in = models.DateField()
    new_check_out = models.DateField()
    new_guests = models.PositiveSmallIntegerField()
    new_total_price = models.DecimalField(max_digits=12, decimal_places=2)
    new_price_lines = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.booking_id}: {self.old_check_in} → {self.new_check_in}"


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
