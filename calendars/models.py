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


# --- iCal (calendars/feeds.py) -----------------------------------------------------------------


class IcalExport(models.Model):
    """A listing's secret export feed (/api/ical/<token>.ics). Only the token's SHA-256 is
    stored: the host sees the token once, when it is issued (rotating issues a new one), and a
    copy of the database opens no calendar."""

    property = models.OneToOneField(
        "properties.Property", on_delete=models.CASCADE, related_name="ical_export"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()

    def __str__(self):
        return f"iCal export of property {self.property_id}"


class IcalFeed(models.Model):
    """An external calendar (another platform's export) whose events hold the listing's nights,
    with the outcome of its last sync for the host to see."""

    property = models.ForeignKey(
        "properties.Property", on_delete=models.CASCADE, related_name="ical_feeds"
    )
    url = models.CharField(max_length=2000)
    name = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    event_count = models.PositiveIntegerField(default=0)
    conflict_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    # The first few skipped events as {"uid", "reason"} (calendars.ical.SKIPPED_LISTED).
    skipped = models.JSONField(default=list, blank=True)
    # The last answer's validators, sent back as If-None-Match / If-Modified-Since.
    etag = models.CharField(max_length=200, blank=True, default="")
    last_modified = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["property", "url"], name="ical_feed_url_unique"),
        ]

    def __str__(self):
        return self.name or self.url[:80]


class IcalFeedEvent(models.Model):
    """One event of an imported feed, keyed by (feed, UID), and the hold it has; none when its
    nights were already held by something else (a conflict, retried at every sync)."""

    feed = models.ForeignKey(IcalFeed, on_delete=models.CASCADE, related_name="events")
    uid = models.CharField(max_length=255)
    start = models.DateField()
    end = models.DateField()
    hold = models.OneToOneField(
        Hold, null=True, blank=True, on_delete=models.SET_NULL, related_name="ical_event"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["feed", "uid"], name="ical_feed_event_uid_unique"),
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="ical_feed_event_nights"
            ),
        ]

    def __str__(self):
        return f"{self.uid} {self.start}..{self.end}"
