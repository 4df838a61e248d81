from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from bookings.models import Booking
from bookings.tests.factories import BookingFactory
from conftest import client_for
from core.stays import utc_today
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db

BOOKINGS = "/api/bookings/"


def days(n: int):
    return utc_today() + timedelta(days=n)


def book(client, listing, start: int, end: int):
    return client.post(
        BOOKINGS,
        {"property_id": listing.pk, "check_in": str(days(start)), "check_out": str(days(end))},
    )


# --- create ----------------------------------------------------------------------------------


def test_create_returns_the_booking(auth_client):
    listing = PropertyFactory.create(title="Modern Studio", price_per_night=Decimal("75"))

    response = book(auth_client, listing, 10, 14)

    assert response.status_code == 201
    booking = Booking.objects.get()
    assert response.json() == {
        "id": booking.pk,
        "property": "Modern Studio",
        "property_id": listing.pk,
        "check_in": str(days(10)),
        "check_out": str(days(14)),
        "nights": 4,
        "guests": 1,
        "total_price": 300.0,
        "currency": "USD",
        "price_lines": [
            {
                "kind": "nights",
                "label": "4 nights at 75.00",
                "quantity": 4,
                "unit_amount": 75.0,
                "amount": 300.0,
            }
        ],
        "status": "confirmed",
        "expires_at": None,
        "cancelled_at": None,
        "cancelled_by": "",
        "refund_amount": None,
        "cancellation_fee": None,
        "created_at": booking.created_at.isoformat().replace("+00:00", "Z"),
        "history": [
            {
                "from_status": "",
                "to_status": "confirmed",
                "actor_role": "guest",
                "by": booking.guest.username,
                "reason": "",
                "created_at": booking.created_at.isoformat().replace("+00:00", "Z"),
            }
        ],
        "revisions": [],
    }


@pytest.mark.parametrize("instant_book", [True, False])
def test_a_new_bookings_answer_is_what_reading_it_back_shows(
    auth_client, instant_book, django_assert_num_queries
):
    # The answer is built from the booking just written, not read back: it must not differ.
    listing = PropertyFactory.create(
        instant_book=instant_book, cancellation_policy="strict", time_zone="Pacific/Kiritimati"
    )
    auth_client.get(f"/api/properties/{listing.pk}/")  # the token's user, looked up once

    # user with revocation; the lock, the plan, the day rows, the held nights (the stay's
    # check), the taxes, the held nights again (the hold's own check), the hold, the booking,
    # its first transition; nothing for the answer. (In a test the transaction is a
    # savepoint: two statements more.)
    with django_assert_num_queries(12):
        created = auth_client.post(
            BOOKINGS,
            {
                "property_id": listing.pk,
                "check_in": str(days(3)),
                "check_out": str(days(6)),
                "guests": 2,
            },
        )

    assert created.status_code == 201, created.json()
    assert created.json()["status"] == ("confirmed" if instant_book else "pending")
    assert created.json() == auth_client.get(f"{BOOKINGS}{created.json()['id']}/").json()


def test_create_needs_a_token(api_client):
    response = book(api_client, PropertyFactory.create(), 10, 14)

    assert response.status_code == 401
    assert Booking.objects.count() == 0


MISSING = object()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"property_id": MISSING}, "property_id"),
        ({"property_id": "abc"}, "property_id"),
        ({"property_id": 10**20}, "property_id"),
        ({"check_in": MISSING}, "check_in"),
        ({"check_in": "2030-02-30"}, "check_in"),
        ({"check_in": None}, "check_in"),
        ({"check_out": "tomorrow"}, "check_out"),
    ],
)
def test_malformed_input_is_a_400_naming_the_field(auth_client, overrides, field):
    body = {
        "property_id": PropertyFactory.create().pk,
        "check_in": str(days(5)),
        "check_out": str(days(8)),
    }
    body.update(overrides)
    body = {key: value for key, value in body.items() if value is not MISSING}

    response = auth_client.post(BOOKINGS, body)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert Booking.objects.count() == 0


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [(5, 5, "check_out"), (5, 3, "check_out"), (-1, 3, "check_in"), (1, 367, "check_out")],
)
def test_rule_breaking_dates_are_a_400(auth_client, start, end, field):
    response = book(auth_client, PropertyFactory.create(), start, end)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert Booking.objects.count() == 0


def test_own_property_and_missing_property_name_property_id(user, auth_client):
    own = book(auth_client, PropertyFactory.create(owner=user), 1, 2)
    missing = auth_client.post(
        BOOKINGS, {"property_id": 999999, "check_in": str(days(1)), "check_out": str(days(2))}
    )

    assert (own.status_code, missing.status_code) == (400, 400)
    assert list(own.json()["errors"]) == list(missing.json()["errors"]) == ["property_id"]


def test_overlap_and_unavailable_are_409(auth_client):
    taken = BookingFactory.create(check_in=days(10), check_out=days(13))
    closed = PropertyFactory.create(availability=False)

    overlap = book(auth_client, taken.property, 12, 15)
    unavailable = book(auth_client, closed, 1, 2)

    assert overlap.status_code == unavailable.status_code == 409
    assert set(overlap.json()) == set(unavailable.json()) == {"detail", "code"}
    assert overlap.json()["code"] == "booking_conflict"
    assert unavailable.json()["code"] == "property_unavailable"
    assert Booking.objects.count() == 1


def test_same_guest_twice_is_409(auth_client):
    listing = PropertyFactory.create()

    first = book(auth_client, listing, 10, 13)
    second = book(auth_client, listing, 11, 12)

    assert (first.status_code, second.status_code) == (201, 409)


def test_check_in_on_another_guests_check_out_day(auth_client):
    taken = BookingFactory.create(check_in=days(10), check_out=days(13))

    assert book(auth_client, taken.property, 13, 15).status_code == 201


def test_status_and_other_read_only_fields_in_the_body_are_ignored(auth_client):
    listing = PropertyFactory.create(price_per_night=Decimal("10"))

    response = auth_client.post(
        BOOKINGS,
        {
            "property_id": listing.pk,
            "check_in": str(days(1)),
            "check_out": str(days(3)),
            "total_price": 1,
            "status": "cancelled",
            "id": 777,
        },
    )

    assert response.status_code == 201
    booking = Booking.objects.get()
    assert (booking.total_price, booking.status) == (Decimal("20.00"), "confirmed")
    assert booking.pk != 777


# --- list, detail, cancel --------------------------------------------------------------------


def test_list_shows_only_the_callers_bookings_newest_first(
    user, auth_client, django_assert_num_queries
):
    mine = [
        BookingFactory.create(guest=user, check_in=days(n * 5 + 1), check_out=days(n * 5 + 3))
        for n in range(3)
    ]
    BookingFactory.create()

    # user with its token's revocation, count, page, the page's transitions and revisions
    with django_assert_num_queries(5):
        response = auth_client.get(BOOKINGS)

    body = response.json()
    assert body["count"] == 3
    assert [row["id"] for row in body["results"]] == [b.pk for b in reversed(mine)]


def test_list_filters_by_status_and_upcoming(user, auth_client):
    upcoming = BookingFactory.create(guest=user, check_in=days(5), check_out=days(7))
    cancelled = BookingFactory.create(guest=user, status="cancelled")
    past = BookingFactory.create(guest=user, check_in=days(-10), check_out=days(-7))
    ongoing = BookingFactory.create(guest=user, check_in=days(-1), check_out=days(2))

    def ids(**params):
        response = auth_client.get(BOOKINGS, params)
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert ids(status="confirmed") == {upcoming.pk, ongoing.pk}
    assert ids(status="completed") == {past.pk}  # read so before any job stores it
    assert ids(status="cancelled") == {cancelled.pk}
    assert ids(upcoming="true") == {upcoming.pk, ongoing.pk}
    assert ids(upcoming="false") == {cancelled.pk, past.pk}
    assert ids(upcoming="true", status="cancelled") == set()


@pytest.mark.parametrize("params", [{"status": "finished"}, {"upcoming": "soon"}])
def test_bad_list_filters_are_400(auth_client, params):
    response = auth_client.get(BOOKINGS, params)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == list(params)


def test_list_needs_a_token(api_client):
    assert api_client.get(BOOKINGS).status_code == 401


def test_detail_is_for_the_guest_only(user, auth_client):
    mine = BookingFactory.create(guest=user)
    theirs = BookingFactory.create()

    assert auth_client.get(f"{BOOKINGS}{mine.pk}/").json()["id"] == mine.pk
    hidden = auth_client.get(f"{BOOKINGS}{theirs.pk}/")
    assert hidden.status_code == 404
    assert hidden.json() == {"detail": "Not found.", "code": "not_found"}
    assert client_for(theirs.property.owner).get(f"{BOOKINGS}{theirs.pk}/").status_code == 404


def test_cancel_makes_it_cancelled_and_frees_the_dates(user, auth_client):
    booking = BookingFactory.create(guest=user, check_in=days(10), check_out=days(12))

    response = auth_client.delete(f"{BOOKINGS}{booking.pk}/")

    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert response.json()["refund_amount"] == float(booking.total_price)  # flexible, 10 days out
    assert response.json()["cancellation_fee"] == 0
    assert auth_client.get(f"{BOOKINGS}{booking.pk}/").json()["status"] == "cancelled"
    assert book(client_for(UserFactory.create()), booking.property, 10, 12).status_code == 201


def test_cancel_of_someone_elses_booking_is_404(auth_client):
    theirs = BookingFactory.create()

    response = auth_client.delete(f"{BOOKINGS}{theirs.pk}/")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "confirmed"


def test_cancel_again_answers_the_cancellation_and_after_check_in_is_409(user, auth_client):
    cancelled = BookingFactory.create(guest=user, status="cancelled")
    started = BookingFactory.create(guest=user, check_in=days(0), check_out=days(2))

    again = auth_client.delete(f"{BOOKINGS}{cancelled.pk}/")
    assert (again.status_code, again.json()["status"]) == (200, "cancelled")
    response = auth_client.delete(f"{BOOKINGS}{started.pk}/")
    assert response.status_code == 409
    assert set(response.json()) == {"detail", "code"}


def test_booking_of_a_deleted_property_keeps_its_title(user, auth_client):
    booking = BookingFactory.create(guest=user, status="cancelled", property__title="Gone Studio")
    host = client_for(booking.property.owner)

    assert host.delete(f"/api/properties/{booking.property_id}/").status_code == 204

    assert auth_client.get(BOOKINGS).json()["results"][0]["property"] == "Gone Studio"
    assert auth_client.get(f"{BOOKINGS}{booking.pk}/").json()["property"] == "Gone Studio"


def test_property_with_an_upcoming_booking_cannot_be_deleted():
    booking = BookingFactory.create(check_in=days(10), check_out=days(12))
    host = client_for(booking.property.owner)

    response = host.delete(f"/api/properties/{booking.property_id}/")

    assert response.status_code == 409
    assert set(response.json()) == {"detail", "code"}
    booking.property.refresh_from_db()
    assert booking.property.deleted_at is None


def test_property_with_only_past_or_cancelled_bookings_can_be_deleted():
    past = BookingFactory.create(check_in=days(-5), check_out=days(0))
    BookingFactory.create(property=past.property, status="cancelled")

    response = client_for(past.property.owner).delete(f"/api/properties/{past.property_id}/")

    assert response.status_code == 204


# --- availability calendar -------------------------------------------------------------------


def test_availability_lists_confirmed_stays_in_the_window(api_client, django_assert_num_queries):
    listing = PropertyFactory.create()
    a = BookingFactory.create(property=listing, check_in=days(20), check_out=days(22))
    b = BookingFactory.create(property=listing, check_in=days(3), check_out=days(5))
    BookingFactory.create(property=listing, check_in=days(8), check_out=days(9), status="cancelled")
    BookingFactory.create(
        property=listing, check_in=days(400), check_out=days(402)
    )  # past the default window
    BookingFactory.create(check_in=days(3), check_out=days(5))  # another property

    with django_assert_num_queries(2):
        response = api_client.get(f"/api/properties/{listing.pk}/availability/")

    assert response.status_code == 200
    assert response.json() == {
        "property_id": listing.pk,
        "booked": [
            {"check_in": str(b.check_in), "check_out": str(b.check_out)},
            {"check_in": str(a.check_in), "check_out": str(a.check_out)},
        ],
    }


def test_availability_window_is_half_open(api_client):
    listing = PropertyFactory.create()
    BookingFactory.create(property=listing, check_in=days(10), check_out=days(12))

    def booked(start, end):
        response = api_client.get(
            f"/api/properties/{listing.pk}/availability/",
            {"from": str(days(start)), "to": str(days(end))},
        )
        return len(response.json()["booked"])

    assert (booked(12, 20), booked(5, 10), booked(11, 12), booked(5, 11)) == (0, 0, 1, 1)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "nope"}, "from"),
        ({"to": "2030-02-31"}, "to"),
        ({"from": str(days(10)), "to": str(days(10))}, "to"),
        ({"from": str(days(1)), "to": str(days(368))}, "to"),
        ({"from": str(days(731))}, "from"),  # past the booking horizon; also far from year 9999
        ({"from": "9999-12-01"}, "from"),
    ],
)
def test_availability_rejects_bad_windows(api_client, params, field):
    response = api_client.get(
        f"/api/properties/{PropertyFactory.create().pk}/availability/", params
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_availability_of_a_missing_property_is_404(api_client):
    deleted = PropertyFactory.create(deleted_at=timezone.now())

    assert api_client.get("/api/properties/999999/availability/").status_code == 404
    assert api_client.get(f"/api/properties/{deleted.pk}/availability/").status_code == 404


# --- a property's bookings, for its owner ----------------------------------------------------


def test_owner_sees_the_property_bookings_with_guests(django_assert_num_queries):
    listing = PropertyFactory.create()
    confirmed = BookingFactory.create(property=listing, check_in=days(3), check_out=days(5))
    cancelled = BookingFactory.create(property=listing, status="cancelled")
    BookingFactory.create()
    host = client_for(listing.owner)

    # user with revocation, property, count, page, the page's transitions and revisions
    with django_assert_num_queries(6):
        response = host.get(f"/api/properties/{listing.pk}/bookings/")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["id"], r["guest"], r["status"]) for r in rows] == [
        (cancelled.pk, cancelled.guest.username, "cancelled"),
        (confirmed.pk, confirmed.guest.username, "confirmed"),
    ]


def test_property_bookings_are_403_for_others_and_401_anonymous(auth_client, api_client):
    listing = PropertyFactory.create()
    BookingFactory.create(property=listing)

    assert auth_client.get(f"/api/properties/{listing.pk}/bookings/").status_code == 403
    assert api_client.get(f"/api/properties/{listing.pk}/bookings/").status_code == 401
    assert auth_client.get("/api/properties/999999/bookings/").status_code == 404


# --- availability search on the properties list ----------------------------------------------


def test_availability_search_returns_exactly_the_bookable_properties(
    api_client, django_assert_num_queries
):
    free = PropertyFactory.create()
    back_to_back = PropertyFactory.create()
    taken = PropertyFactory.create()
    cancelled_only = PropertyFactory.create()
    PropertyFactory.create(availability=False)
    BookingFactory.create(property=back_to_back, check_in=days(5), check_out=days(10))
    BookingFactory.create(property=taken, check_in=days(11), check_out=days(12))
    BookingFactory.create(
        property=cancelled_only, check_in=days(10), check_out=days(14), status="cancelled"
    )

    with django_assert_num_queries(2):  # the page's ids with the total, its rows with covers
        response = api_client.get(
            "/api/properties/", {"check_in": str(days(10)), "check_out": str(days(14))}
        )

    found = {row["id"] for row in response.json()["results"]}
    assert found == {free.pk, back_to_back.pk, cancelled_only.pk}
    guest = client_for(UserFactory.create())
    for listing in (free, back_to_back, cancelled_only):
        assert book(guest, listing, 10, 14).status_code == 201
        guest = client_for(UserFactory.create())
    assert book(guest, taken, 10, 14).status_code == 409


def test_availability_from_at_the_end_of_the_calendar_is_a_400(api_client):
    response = api_client.get(
        f"/api/properties/{PropertyFactory.create().pk}/availability/", {"from": "9999-06-01"}
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["from"]


def test_guests_default_to_one_and_are_stored(auth_client):
    listing = PropertyFactory.create(max_guests=4)

    default = book(auth_client, listing, 10, 12)
    four = auth_client.post(
        BOOKINGS,
        {
            "property_id": listing.pk,
            "check_in": str(days(20)),
            "check_out": str(days(22)),
            "guests": 4,
        },
    )

    assert (default.json()["guests"], four.json()["guests"]) == (1, 4)
    assert sorted(Booking.objects.values_list("guests", flat=True)) == [1, 4]


@pytest.mark.parametrize("guests", [0, 5, 51, "2", 2.5, True])
def test_guests_beyond_the_listing_or_not_an_integer_are_a_400_naming_it(auth_client, guests):
    listing = PropertyFactory.create(max_guests=4)

    response = auth_client.post(
        BOOKINGS,
        {
            "property_id": listing.pk,
            "check_in": str(days(10)),
            "check_out": str(days(12)),
            "guests": guests,
        },
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["guests"]
    assert Booking.objects.count() == 0


def test_a_booking_carries_its_listing_s_currency_for_good(auth_client):
    listing = PropertyFactory.create(currency="KES", price_per_night=Decimal("5000"))

    response = book(auth_client, listing, 10, 12)
    listing.currency = "EUR"
    listing.save()

    assert (response.json()["total_price"], response.json()["currency"]) == (10000.0, "KES")
    assert Booking.objects.get().currency == "KES"
