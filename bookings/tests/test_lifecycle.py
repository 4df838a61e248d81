"""States, the transition table, request to book, host decisions, expiry without a job,
completed stays and date changes, through the services."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.tests.factories import UserFactory
from bookings.models import Booking, BookingRevision, BookingTransition
from bookings.selectors import booking_status_expression, booking_status_now
from bookings.services import (
    booking_accept,
    booking_cancel,
    booking_change,
    booking_create,
    booking_decline,
    booking_host_cancel,
    booking_request_expire,
)
from bookings.tests.factories import BookingFactory
from bookings.transitions import TRANSITIONS, booking_transition
from core.exceptions import (
    BookingConflict,
    BookingNotCancellable,
    BookingNotChangeable,
    BookingRequestExpired,
    BookingTransitionRefused,
    NotFound,
    PropertyHasUpcomingBookings,
)
from core.stays import utc_today
from properties.models import Property
from properties.services import property_delete
from properties.tests.factories import PropertyFactory
from rates.tests.factories import RatePlanFactory

pytestmark = pytest.mark.django_db

STATES = ["pending", "confirmed", "declined", "expired", "cancelled", "completed"]
NOON = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def days(n: int) -> date:
    return utc_today() + timedelta(days=n)


def request(listing=None, *, start=10, end=13, guest=None) -> Booking:
    listing = listing or PropertyFactory.create(instant_book=False)
    return booking_create(
        guest=guest or UserFactory.create(),
        property_id=listing.pk,
        check_in=days(start),
        check_out=days(end),
    )


def history(booking: Booking) -> list[tuple[str, str, str]]:
    return list(
        BookingTransition.objects.filter(booking=booking)
        .order_by("created_at", "id")
        .values_list("from_status", "to_status", "actor_role")
    )


# --- request to book -------------------------------------------------------------------------


def test_instant_listing_confirms_and_records_the_creation():
    listing = PropertyFactory.create()

    booking = booking_create(
        guest=UserFactory.create(), property_id=listing.pk, check_in=days(5), check_out=days(7)
    )

    assert (booking.status, booking.expires_at) == ("confirmed", None)
    assert history(booking) == [("", "confirmed", "guest")]


def test_request_is_pending_holds_its_nights_and_expires_after_the_setting(settings):
    settings.BOOKING_REQUEST_HOURS = 6
    listing = PropertyFactory.create(instant_book=False)

    with time_machine.travel(NOON, tick=False):
        pending = booking_create(
            guest=UserFactory.create(),
            property_id=listing.pk,
            check_in=date(2030, 6, 20),
            check_out=date(2030, 6, 23),
        )
        with pytest.raises(BookingConflict):
            booking_create(
                guest=UserFactory.create(),
                property_id=listing.pk,
                check_in=date(2030, 6, 22),
                check_out=date(2030, 6, 24),
            )

    assert pending.status == "pending"
    assert pending.expires_at == NOON + timedelta(hours=6)
    assert history(pending) == [("", "pending", "guest")]
    assert Booking.objects.count() == 1


def test_a_request_expires_no_later_than_the_end_of_its_check_in_day():
    # Noon UTC on 1 June is 02:00 on 2 June at UTC+14: the check-in day (the 2nd) ends in 22
    # hours, before BOOKING_REQUEST_HOURS (24) run out.
    listing = PropertyFactory.create(instant_book=False, time_zone="Pacific/Kiritimati")

    with time_machine.travel(NOON, tick=False):
        pending = booking_create(
            guest=UserFactory.create(),
            property_id=listing.pk,
            check_in=date(2030, 6, 2),
            check_out=date(2030, 6, 4),
        )

    assert pending.expires_at == datetime(2030, 6, 2, 10, 0, tzinfo=UTC)
    assert pending.status == "pending"


def test_a_request_for_today_is_a_request_for_the_rest_of_the_day():
    # 23:30 at UTC-11: half an hour of the check-in day left, and the request lives for it.
    listing = PropertyFactory.create(instant_book=False, time_zone="Pacific/Pago_Pago")
    late = datetime(2030, 6, 2, 10, 30, tzinfo=UTC)  # 23:30 on 1 June in Pago Pago

    with time_machine.travel(late, tick=False):
        pending = booking_create(
            guest=UserFactory.create(),
            property_id=listing.pk,
            check_in=date(2030, 6, 1),
            check_out=date(2030, 6, 3),
        )
        accepted = booking_accept(host=listing.owner, booking_id=pending.pk)

    assert pending.expires_at == datetime(2030, 6, 2, 11, 0, tzinfo=UTC)
    assert accepted.status == "confirmed"


def test_accept_confirms_clears_the_deadline_and_records_who():
    pending = request()
    host = pending.property.owner

    booking = booking_accept(host=host, booking_id=pending.pk, message="Welcome!")

    assert (booking.status, booking.expires_at) == ("confirmed", None)
    assert booking.hold is not None
    booking.hold.refresh_from_db()
    assert booking.hold.expires_at is None  # the nights no longer lapse
    last = booking.transitions.get(to_status="confirmed")
    assert (last.from_status, last.to_status, last.actor, last.reason) == (
        "pending",
        "confirmed",
        host,
        "Welcome!",
    )


def test_accept_again_answers_the_confirmed_booking_without_a_second_record():
    pending = request()
    host = pending.property.owner
    booking_accept(host=host, booking_id=pending.pk)

    again = booking_accept(host=host, booking_id=pending.pk)

    assert again.status == "confirmed"
    assert history(pending) == [("", "pending", "guest"), ("pending", "confirmed", "host")]


def test_decline_frees_the_nights():
    pending = request(start=10, end=13)

    declined = booking_decline(host=pending.property.owner, booking_id=pending.pk, message="No")

    assert (declined.status, declined.hold) == ("declined", None)
    other = request(pending.property, start=11, end=12)
    assert other.status == "pending"


def test_only_the_listing_s_host_can_answer_and_others_learn_nothing():
    pending = request()

    for act in (booking_accept, booking_decline):
        with pytest.raises(NotFound):
            act(host=pending.guest, booking_id=pending.pk)
    with pytest.raises(NotFound):
        booking_host_cancel(host=UserFactory.create(), booking_id=pending.pk, reason="x")

    pending.refresh_from_db()
    assert pending.status == "pending"


def test_declining_an_accepted_request_or_accepting_a_declined_one_is_refused():
    accepted, declined = request(start=5, end=6), request(start=7, end=8)
    booking_accept(host=accepted.property.owner, booking_id=accepted.pk)
    booking_decline(host=declined.property.owner, booking_id=declined.pk)

    with pytest.raises(BookingTransitionRefused, match="confirmed"):
        booking_decline(host=accepted.property.owner, booking_id=accepted.pk)
    with pytest.raises(BookingTransitionRefused, match="declined"):
        booking_accept(host=declined.property.owner, booking_id=declined.pk)

    assert [accepted.transitions.count(), declined.transitions.count()] == [2, 2]


def test_accepting_an_instant_booking_is_refused():
    booking = BookingFactory.create()

    with pytest.raises(BookingTransitionRefused):
        booking_accept(host=booking.property.owner, booking_id=booking.pk)


# --- expiry without a job --------------------------------------------------------------------


def test_an_expired_request_blocks_nobody_and_reads_expired_with_no_job_run():
    with time_machine.travel(NOON, tick=False):
        listing = PropertyFactory.create(instant_book=False)
        pending = booking_create(
            guest=UserFactory.create(),
            property_id=listing.pk,
            check_in=date(2030, 6, 20),
            check_out=date(2030, 6, 23),
        )

    with time_machine.travel(NOON + timedelta(hours=24, seconds=1), tick=False):
        assert booking_status_now(pending) == "expired"
        listed = Booking.objects.annotate(current_status=booking_status_expression())
        assert list(listed.values_list("current_status", flat=True)) == ["expired"]
        with pytest.raises(BookingRequestExpired):
            booking_accept(host=listing.owner, booking_id=pending.pk)
        rival = booking_create(
            guest=UserFactory.create(),
            property_id=listing.pk,
            check_in=date(2030, 6, 21),
            check_out=date(2030, 6, 22),
        )

        pending.refresh_from_db()
        # The rival's write deleted the void hold; the row is stored as pending until the job
        # runs, and reads as expired meanwhile.
        assert (pending.status, pending.hold, booking_status_now(pending)) == (
            "pending",
            None,
            "expired",
        )
        call_command("expire_booking_requests")

    assert rival.status == "pending"
    pending.refresh_from_db()
    assert pending.status == "expired"
    assert history(pending)[-1] == ("pending", "expired", "system")


def test_one_second_before_its_deadline_a_request_still_holds_and_can_be_accepted():
    with time_machine.travel(NOON, tick=False):
        pending = request()

    with time_machine.travel(NOON + timedelta(hours=24, seconds=-1), tick=False):
        with pytest.raises(BookingConflict):
            request(pending.property)
        accepted = booking_accept(host=pending.property.owner, booking_id=pending.pk)

    assert accepted.status == "confirmed"


def test_the_expiry_command_stores_lapsed_requests_only():
    with time_machine.travel(NOON, tick=False):
        lapsed = request(start=5, end=6)
        live = request(lapsed.property, start=7, end=8)
        live.expires_at = NOON + timedelta(hours=48)
        live.save(update_fields=["expires_at"])

    with time_machine.travel(NOON + timedelta(hours=30), tick=False):
        call_command("expire_booking_requests")

    lapsed.refresh_from_db()
    live.refresh_from_db()
    assert (lapsed.status, live.status) == ("expired", "pending")
    assert booking_request_expire(booking_id=live.pk, now=NOON) is None  # not yet due


# --- completed -------------------------------------------------------------------------------


def test_a_stay_reads_completed_from_its_check_out_day_and_the_command_stores_it():
    # 10:30 UTC on 1 June: 2 June at UTC+14, still 31 May at UTC-11.
    moment = datetime(2030, 6, 1, 10, 30, tzinfo=UTC)
    east = BookingFactory.create(
        property__time_zone="Pacific/Kiritimati",
        check_in=date(2030, 5, 28),
        check_out=date(2030, 6, 2),
    )
    west = BookingFactory.create(
        property__time_zone="Pacific/Pago_Pago",
        check_in=date(2030, 5, 28),
        check_out=date(2030, 6, 1),
    )

    with time_machine.travel(moment, tick=False):
        statuses = dict(
            Booking.objects.annotate(current_status=booking_status_expression()).values_list(
                "pk", "current_status"
            )
        )
        call_command("complete_bookings")

    assert statuses == {east.pk: "completed", west.pk: "confirmed"}
    east.refresh_from_db()
    west.refresh_from_db()
    assert (east.status, west.status) == ("completed", "confirmed")
    assert history(east) == [("confirmed", "completed", "system")]


# --- cancelling ------------------------------------------------------------------------------


def test_host_cancel_refunds_everything_and_needs_a_reason():
    booking = BookingFactory.create(check_in=days(2), check_out=days(5))

    with pytest.raises(ValidationError):
        booking_host_cancel(host=booking.property.owner, booking_id=booking.pk, reason="  ")
    cancelled = booking_host_cancel(
        host=booking.property.owner, booking_id=booking.pk, reason="Burst pipe"
    )

    assert (cancelled.status, cancelled.cancelled_by) == ("cancelled", "host")
    assert (cancelled.refund_amount, cancelled.cancellation_fee) == (
        booking.total_price,
        Decimal(0),
    )
    assert history(cancelled) == [("confirmed", "cancelled", "host")]
    assert cancelled.transitions.get().reason == "Burst pipe"


def test_a_guest_cancel_after_a_host_cancel_is_refused_not_replayed():
    booking = BookingFactory.create()
    booking_host_cancel(host=booking.property.owner, booking_id=booking.pk, reason="Sold")

    with pytest.raises(BookingNotCancellable, match="cancelled"):
        booking_cancel(guest=booking.guest, booking_id=booking.pk)


def test_a_guest_withdrawing_a_request_gets_everything_back():
    pending = request(start=2, end=4)

    withdrawn = booking_cancel(guest=pending.guest, booking_id=pending.pk)

    assert (withdrawn.status, withdrawn.refund_amount, withdrawn.cancellation_fee) == (
        "cancelled",
        pending.total_price,
        Decimal(0),
    )


def test_a_host_cannot_cancel_a_request_it_must_decline_it():
    pending = request()

    with pytest.raises(BookingNotCancellable, match="decline"):
        booking_host_cancel(host=pending.property.owner, booking_id=pending.pk, reason="No")


def test_deleting_a_listing_with_a_live_request_is_refused_and_points_at_the_actions():
    pending = request()

    with pytest.raises(PropertyHasUpcomingBookings) as refused:
        property_delete(listing=pending.property)

    assert "/decline/" in str(refused.value)
    assert "/host-cancel/" in str(refused.value)
    assert "/api/host/bookings/" in str(refused.value)


# --- the transition table and the database checks -------------------------------------------


# The lifecycle, written out here rather than read from the table under test: a wrong
# row in TRANSITIONS must fail this test.
ALLOWED = {
    ("pending", "confirmed", "host"),  # accept
    ("pending", "declined", "host"),  # decline
    ("pending", "expired", "system"),
    ("pending", "cancelled", "guest"),  # a request withdrawn
    ("confirmed", "cancelled", "guest"),
    ("confirmed", "cancelled", "host"),
    ("confirmed", "completed", "system"),
}


def test_the_table_is_the_lifecycle():
    table = {
        (old, new, role)
        for (old, new), roles in TRANSITIONS.items()
        if old  # creation rows: tested with booking_create
        for role in roles
    }
    assert table == ALLOWED


@pytest.mark.parametrize("role", ["guest", "host", "system"])
@pytest.mark.parametrize("to_status", STATES)
@pytest.mark.parametrize("from_status", STATES)
def test_only_the_table_s_transitions_happen(from_status, to_status, role):
    booking = BookingFactory.create(status=from_status)
    allowed = (from_status, to_status, role) in ALLOWED
    if to_status == "cancelled":
        booking.cancelled_at, booking.cancelled_by = timezone.now(), "guest"
        booking.refund_amount, booking.cancellation_fee = booking.total_price, Decimal(0)
    fields = ("cancelled_at", "cancelled_by", "refund_amount", "cancellation_fee")

    if allowed:
        booking_transition(
            booking=booking,
            to_status=to_status,
            role=role,
            actor=None,
            now=timezone.now(),
            update_fields=fields if to_status == "cancelled" else (),
        )
        booking.refresh_from_db()
        assert booking.status == to_status
        assert booking.transitions.count() == 1
    else:
        with pytest.raises(BookingTransitionRefused):
            booking_transition(
                booking=booking, to_status=to_status, role=role, actor=None, now=timezone.now()
            )
        booking.refresh_from_db()
        assert booking.status == from_status
        assert booking.transitions.count() == 0


# Each row breaks one check only (a pending booking's expiry is cleared where the new state
# takes none), and the error must name that check: a row refused by another check would
# prove nothing about its own.
EXPIRY, CANCELLATION = (
    "booking_expires_at_matches_status",
    "booking_cancellation_fields_match_status",
)


@pytest.mark.parametrize(
    ("fields", "check"),
    [
        # The expiry check also names the six states: which of the two a database reports
        # first is its own choice (SQLite names the first, PostgreSQL the second).
        ({"status": "shipped", "expires_at": None}, f"booking_status_known|{EXPIRY}"),
        ({"status": "pending", "expires_at": None}, EXPIRY),
        ({"status": "confirmed", "expires_at": datetime(2030, 1, 1, tzinfo=UTC)}, EXPIRY),
        ({"status": "cancelled", "refund_amount": None}, CANCELLATION),
        ({"status": "cancelled", "cancelled_by": ""}, CANCELLATION),
        ({"status": "cancelled", "cancellation_fee": Decimal(-1)}, CANCELLATION),
        ({"status": "confirmed", "expires_at": None, "refund_amount": Decimal(1)}, CANCELLATION),
        (
            {
                "status": "declined",
                "expires_at": None,
                "cancelled_at": datetime(2030, 1, 1, tzinfo=UTC),
            },
            CANCELLATION,
        ),
    ],
    ids=lambda value: (
        "-".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else ""
    ),
)
def test_the_database_refuses_a_state_without_its_fields(fields, check):
    booking = BookingFactory.create(status="cancelled" if "cancelled" in str(fields) else "pending")

    with pytest.raises(IntegrityError, match=check), transaction.atomic():
        Booking.objects.filter(pk=booking.pk).update(**fields)


# --- changing dates or guests ----------------------------------------------------------------


def test_a_change_moves_the_stay_reprices_it_and_keeps_a_revision():
    booking = BookingFactory.create(
        property__price_per_night=Decimal("80"), check_in=days(10), check_out=days(12)
    )
    booking.property.price_per_night = Decimal("90")
    booking.property.save()

    changed = booking_change(
        guest=booking.guest, booking_id=booking.pk, check_in=days(11), check_out=days(14), guests=2
    )

    assert (changed.check_in, changed.check_out, changed.guests) == (days(11), days(14), 2)
    assert changed.total_price == Decimal("270.00")
    revision = BookingRevision.objects.get(booking=booking)
    assert (revision.old_check_in, revision.old_check_out, revision.old_total_price) == (
        days(10),
        days(12),
        Decimal("160.00"),
    )
    assert (revision.new_check_in, revision.new_guests, revision.new_total_price) == (
        days(11),
        2,
        Decimal("270.00"),
    )


def test_a_change_onto_taken_nights_is_a_conflict_and_changes_nothing():
    booking = BookingFactory.create(check_in=days(10), check_out=days(12))
    BookingFactory.create(property=booking.property, check_in=days(13), check_out=days(15))

    with pytest.raises(BookingConflict):
        booking_change(guest=booking.guest, booking_id=booking.pk, check_out=days(14))

    booking.refresh_from_db()
    assert (booking.check_out, booking.revisions.count()) == (days(12), 0)


def test_a_change_overlapping_only_its_own_nights_is_fine():
    booking = BookingFactory.create(check_in=days(10), check_out=days(13))

    changed = booking_change(guest=booking.guest, booking_id=booking.pk, check_in=days(11))

    assert (changed.check_in, changed.nights) == (days(11), 2)


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"guests": 9}, "guests: This place takes at most 2"), ({"check_in": days(-1)}, "past")],
)
def test_a_change_the_listing_refuses_is_a_conflict_naming_why(changes, message):
    booking = BookingFactory.create(check_in=days(10), check_out=days(12))

    with pytest.raises(BookingNotChangeable, match=message):
        booking_change(guest=booking.guest, booking_id=booking.pk, **changes)

    booking.refresh_from_db()
    assert (booking.check_in, booking.guests, booking.revisions.count()) == (days(10), 1, 0)


@pytest.mark.parametrize("status", ["pending", "cancelled", "declined"])
def test_only_a_confirmed_stay_can_change(status):
    booking = BookingFactory.create(status=status, check_in=days(10), check_out=days(12))

    with pytest.raises(BookingNotChangeable, match=status):
        booking_change(guest=booking.guest, booking_id=booking.pk, guests=2)


def test_a_started_stay_cannot_change():
    booking = BookingFactory.create(check_in=days(0), check_out=days(3))

    with pytest.raises(BookingNotChangeable, match="started"):
        booking_change(guest=booking.guest, booking_id=booking.pk, check_out=days(4))


def test_changing_only_the_guest_count_is_not_judged_by_arrival_rules_set_since():
    booking = BookingFactory.create(check_in=utc_today() + timedelta(days=2), guests=1)
    listing = booking.property
    RatePlanFactory.create(property=listing, advance_notice_days=5)
    Property.objects.filter(pk=listing.pk).update(availability=False)

    changed = booking_change(guest=booking.guest, booking_id=booking.pk, guests=2)

    assert changed.guests == 2
    assert changed.revisions.count() == 1
