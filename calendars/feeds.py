"""iCal services and selectors: a listing's secret export feed, and the external feeds its host
imports (docs/security.md says why the token is stored hashed and how fetching avoids SSRF).

Import: each sync fetches one feed (outside any transaction: the network must not hold a lock),
parses it, then reconciles its events with the feed's stored ones in one transaction with the
listing locked, like every other hold write: a new event gets a Hold of kind `import`, a moved
one is moved, a vanished or cancelled one is released. An event whose nights another hold
already has (a confirmed booking, a block, another feed's event) is kept without a hold: a
conflict the host sees on the feed, retried at every sync, never a reason to touch the booking.

Export: every active booking and block hold of the listing, as all-day events. Imported holds
are left out, like Airbnb and Booking.com leave out what they imported: a platform that reads
back its own reservation as our block would keep the nights closed after the guest cancels
(each side echoing the other's copy). A host links every pair of calendars directly instead."""

import hashlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.utils import timezone

from calendars.fetch import FetchError, feed_fetch, url_problem
from calendars.ical import ExportEvent, FeedEvent, FeedUnreadable, calendar_build, feed_parse
from calendars.models import Hold, IcalExport, IcalFeed, IcalFeedEvent
from calendars.selectors import hold_active_q
from calendars.services import hold_create, hold_move, hold_release
from core.exceptions import NightsTaken, NotFound
from core.local_time import local_today
from core.stays import MAX_DAYS_AHEAD
from properties.models import Property

logger = logging.getLogger("booking.calendars")

# The export reaches this far back, so that a calendar still shows last season's stays.
EXPORT_DAYS_BACK = 365
SUMMARIES = {Hold.Kind.BOOKING: "Reserved", Hold.Kind.BLOCK: "Blocked"}


# --- Export ----------------------------------------------------------------------------------


def token_digest(token: str) -> str:
    """What is stored of an export token: its SHA-256, so a copy of the database opens no feed."""
    return hashlib.sha256(token.encode()).hexdigest()


def ical_export_rotate(*, listing: Property) -> tuple[IcalExport, str]:
    """Issue the listing's export token (the first, or a new one that ends the previous one at
    once); returns the row and the token, which is shown this once and never stored."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        export, _ = IcalExport.objects.update_or_create(
            property=listing,
            defaults={"token_hash": token_digest(token), "created_at": timezone.now()},
        )
    return export, token


def ical_export_listing(*, token: str) -> Property:
    """The listed property whose export token this is. Raises NotFound for any other string
    (the lookup is by the token's digest: its timing says nothing about the token)."""
    export = (
        IcalExport.objects.select_related("property")
        .filter(token_hash=token_digest(token), property__deleted_at__isnull=True)
        .first()
    )
    if export is None:
        raise NotFound("No calendar at this address; its host may have issued a new one.")
    return export.property


def ical_export_body(*, listing: Property, now: datetime) -> bytes:
    """The listing's export feed: its active booking and block holds from a year ago to the
    booking horizon, as all-day events ("Reserved" or "Blocked", nothing about the guest)."""
    today = local_today(listing.time_zone)
    holds = (
        Hold.objects.filter(hold_active_q(now=now), property=listing)
        .filter(kind__in=list(SUMMARIES))
        .filter(
            end__gt=today - timedelta(days=EXPORT_DAYS_BACK),
            start__lt=today + timedelta(days=MAX_DAYS_AHEAD),
        )
        .order_by("start", "pk")
        .only("pk", "kind", "start", "end", "created_at")
    )
    return calendar_build(
        events=(
            ExportEvent(
                uid=f"hold-{hold.pk}@{settings.ICAL_UID_DOMAIN}",
                start=hold.start,
                end=hold.end,
                summary=SUMMARIES[Hold.Kind(hold.kind)],
                # The hold's own creation, not now: the same calendar is the same bytes (ETag).
                stamp=hold.created_at,
            )
            for hold in holds
        )
    )


# --- Import: feeds ---------------------------------------------------------------------------


def feed_url_normalize(url: str) -> str:
    """webcal:// is how calendar apps spell an https feed; everything else stays as typed."""
    url = url.strip()
    if url[:9].lower() == "webcal://":
        return "https://" + url[9:]
    return url


def ical_feed_list(*, property_id: int) -> QuerySet[IcalFeed]:
    """A listing's imported feeds, oldest first, each with its conflicting events."""
    conflicts = IcalFeedEvent.objects.filter(hold__isnull=True).order_by("start", "uid")
    return (
        IcalFeed.objects.filter(property_id=property_id)
        .order_by("pk")
        .prefetch_related(Prefetch("events", queryset=conflicts, to_attr="conflict_events"))
    )


def ical_feed_get(*, property_id: int, feed_id: int) -> IcalFeed:
    """One feed of a listing. Raises NotFound for an unknown id or another listing's feed."""
    feed = IcalFeed.objects.filter(property_id=property_id, pk=feed_id).first()
    if feed is None:
        raise NotFound("No such calendar feed on this property.")
    return feed


def ical_feed_create(*, listing: Property, url: str, name: str = "") -> IcalFeed:
    """Add an external calendar to import. Raises ValidationError for a URL that may not be
    fetched, one the listing already imports, or one feed too many."""
    url = feed_url_normalize(url)
    problem = url_problem(url)
    if problem:
        raise ValidationError({"url": f"This URL cannot be imported: {problem}."})
    with transaction.atomic():
        Property.objects.select_for_update().only("pk").get(pk=listing.pk)
        feeds = IcalFeed.objects.filter(property=listing)
        if feeds.filter(url=url).exists():
            raise ValidationError({"url": "This property already imports this URL."})
        if feeds.count() >= settings.ICAL_FEEDS_PER_PROPERTY:
            raise ValidationError(
                {"url": f"A property imports at most {settings.ICAL_FEEDS_PER_PROPERTY} feeds."}
            )
        return IcalFeed.objects.create(property=listing, url=url, name=name)


def ical_feed_delete(*, feed: IcalFeed) -> None:
    """Stop importing a feed: its events' holds are released with it."""
    with transaction.atomic():
        Property.all_objects.select_for_update().only("pk").get(pk=feed.property_id)
        for event in IcalFeedEvent.objects.filter(feed=feed, hold__isnull=False).select_related(
            "hold"
        ):
            assert event.hold is not None
            hold_release(hold=event.hold)
        feed.delete()


# --- Import: sync ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncOutcome:
    feed: IcalFeed
    held: int
    conflicts: int
    error: str


def ical_feed_sync(*, feed_id: int) -> SyncOutcome:
    """Fetch one feed and bring its holds in line with it (see the module's docstring). A feed
    that cannot be fetched or read is reported on the feed (`last_error`) and changes no hold:
    a feed that is down for an hour must not open its nights. Raises NotFound for no feed."""
    feed = IcalFeed.objects.select_related("property").filter(pk=feed_id).first()
    if feed is None:
        raise NotFound("No such calendar feed.")
    listing = feed.property
    today = local_today(listing.time_zone)
    events: list[FeedEvent] | None = None
    status_fields: dict[str, object] = {}
    try:
        fetched = feed_fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified)
        if fetched.status == 200:
            parsed = feed_parse(
                body=fetched.body,
                time_zone=listing.time_zone,
                window_start=today,
                window_end=today + timedelta(days=MAX_DAYS_AHEAD),
                max_events=settings.ICAL_FEED_MAX_EVENTS,
            )
            events = parsed.events
            status_fields = {
                "etag": fetched.etag,
                "last_modified": fetched.last_modified,
                "skipped_count": parsed.skipped_count,
                "skipped": parsed.skipped,
            }
    except (FetchError, FeedUnreadable) as exc:
        error = str(exc)[:500]
        updated = IcalFeed.objects.filter(pk=feed.pk).update(
            last_sync_at=timezone.now(), last_error=error
        )
        if not updated:
            raise NotFound("No such calendar feed.") from exc  # removed while we fetched
        logger.info("ical feed %s not synced: %s", feed.pk, error)
        feed.refresh_from_db()
        return SyncOutcome(feed=feed, held=0, conflicts=0, error=error)

    with transaction.atomic():
        # The hold services' lock: a booking or block of this listing waits for the sync.
        Property.all_objects.select_for_update().only("pk").get(pk=listing.pk)
        if not IcalFeed.objects.filter(pk=feed.pk).exists():
            raise NotFound("No such calendar feed.")  # removed by its host while we fetched
        stored = {
            event.uid: event
            for event in IcalFeedEvent.objects.filter(feed=feed).select_related("hold")
        }
        if events is None:
            # 304 Not Modified: the same events, retried (their conflicts may have cleared).
            events = [
                FeedEvent(uid=event.uid, start=event.start, end=event.end)
                for event in stored.values()
                if event.end > today
            ]
        held, conflicts = _reconcile(listing=listing, feed=feed, stored=stored, events=events)
        now = timezone.now()
        IcalFeed.objects.filter(pk=feed.pk).update(
            last_sync_at=now,
            last_success_at=now,
            last_error="",
            event_count=held,
            conflict_count=conflicts,
            **status_fields,
        )
    feed.refresh_from_db()
    logger.info("ical feed %s synced: %s held, %s conflicts", feed.pk, held, conflicts)
    return SyncOutcome(feed=feed, held=held, conflicts=conflicts, error="")


SYNC_FAILED_MESSAGE = "The sync failed on our side; it is retried at the next run."


def ical_feeds_sync_all() -> Iterable[SyncOutcome]:
    """Sync every feed of every listed property, one after the other (each in its own
    transaction, so one slow or broken feed delays the others but never undoes them)."""
    feed_ids = IcalFeed.objects.filter(property__deleted_at__isnull=True).order_by("pk")
    for feed_id in list(feed_ids.values_list("pk", flat=True)):
        try:
            outcome = ical_feed_sync(feed_id=feed_id)
        except NotFound:
            continue  # its host removed it since the list was read
        except Exception:
            # The one broad catch: feeds belong to different hosts, and a bug that one feed
            # trips must not stop every later listing's sync (their calendars would go stale
            # and double-book). It is logged with its traceback and shown on the feed.
            logger.exception("ical feed %s: sync failed", feed_id)
            IcalFeed.objects.filter(pk=feed_id).update(
                last_sync_at=timezone.now(),
                last_error=SYNC_FAILED_MESSAGE,
            )
            continue
        yield outcome


def _reconcile(
    *,
    listing: Property,
    feed: IcalFeed,
    stored: dict[str, IcalFeedEvent],
    events: list[FeedEvent],
) -> tuple[int, int]:
    """Holds for `events`, inside the caller's transaction; returns (held, conflicts)."""
    incoming = {event.uid: event for event in events}
    # Vanished first, then moves, then new holds: nights an event leaves are free for the
    # events that come after it in the same feed (two stays that swap dates both land).
    for uid, stale in stored.items():
        if uid not in incoming:
            if stale.hold_id is not None:
                hold_release(hold=_hold(stale))
            stale.delete()

    pending: list[tuple[IcalFeedEvent | None, FeedEvent]] = []
    for uid, event in incoming.items():
        known = stored.get(uid)
        if known is None or known.hold_id is None:
            pending.append((known, event))
            continue
        if (known.start, known.end) == (event.start, event.end):
            continue
        try:
            with transaction.atomic():  # a savepoint: a refused move leaves the rest intact
                hold_move(hold=_hold(known), start=event.start, end=event.end)
        except NightsTaken:
            hold_release(hold=_hold(known))
            known.hold = None
            pending.append((known, event))
        else:
            known.start, known.end = event.start, event.end
            known.save(update_fields=["start", "end"])

    note = (feed.name or "iCal import")[:100]
    for row, event in pending:
        hold: Hold | None
        try:
            with transaction.atomic():
                hold = hold_create(
                    listing=listing,
                    start=event.start,
                    end=event.end,
                    kind=Hold.Kind.IMPORT,
                    note=note,
                )
        except NightsTaken:
            hold = None
        if row is None:
            IcalFeedEvent.objects.create(
                feed=feed, uid=event.uid, start=event.start, end=event.end, hold=hold
            )
        else:
            row.start, row.end, row.hold = event.start, event.end, hold
            row.save(update_fields=["start", "end", "hold"])

    rows = IcalFeedEvent.objects.filter(feed=feed)
    conflicts = rows.filter(hold__isnull=True).count()
    return rows.count() - conflicts, conflicts


def _hold(row: IcalFeedEvent) -> Hold:
    assert row.hold is not None
    return row.hold


def ical_feed_with_conflicts(*, feed: IcalFeed) -> IcalFeed:
    """`feed` with `conflict_events` (its events that hold no nights), as ical_feed_list has."""
    prefetch_related_objects(
        [feed],
        Prefetch(
            "events",
            queryset=IcalFeedEvent.objects.filter(hold__isnull=True).order_by("start", "uid"),
            to_attr="conflict_events",
        ),
    )
    return feed
