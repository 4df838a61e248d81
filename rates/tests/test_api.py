from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from accounts.tests.factories import UserFactory
from bookings.models import Booking
from calendars.models import Hold
from conftest import client_for
from core.stays import utc_today
from properties.tests.factories import PropertyFactory
from rates.models import RateDay, RatePlan, Tax
from rates.tests.factories import RateDayFactory, RatePlanFactory, TaxFactory

pytestmark = pytest.mark.django_db


def day(n: int) -> str:
    return str(utc_today() + timedelta(days=n))


def rates_url(listing) -> str:
    return f"/api/properties/{listing.pk}/rates/"


def test_a_listing_without_rules_shows_the_defaults(api_client, django_assert_num_queries):
    listing = PropertyFactory.create()

    with django_assert_num_queries(3):  # listing, plan, taxes
        response = api_client.get(rates_url(listing))

    assert response.status_code == 200
    assert response.json() == {
        "property_id": listing.pk,
        "currency": "USD",
        "min_nights": 1,
        "max_nights": 365,
        "weekend_price": None,
        "weekend_days": [4, 5],
        "weekly_discount_percent": 0.0,
        "monthly_discount_percent": 0.0,
        "booking_window_days": 730,
        "advance_notice_days": 0,
        "preparation_nights": 0,
        "cleaning_fee": 0.0,
        "extra_guest_fee": 0.0,
        "guests_included": 1,
        "taxes": [],
    }


def test_the_owner_patches_some_rules_and_puts_all(user):
    listing = PropertyFactory.create(owner=user)
    client = client_for(user)

    patched = client.patch(
        rates_url(listing),
        {
            "min_nights": 2,
            "weekend_price": "99.50",
            "weekend_days": [5, 4, 5],
            "taxes": [{"name": "VAT", "kind": "percent", "value": 10}],
        },
        format="json",
    )
    put = client.put(rates_url(listing), {"cleaning_fee": 25}, format="json")

    assert patched.status_code == 200
    assert patched.json()["weekend_days"] == [4, 5]
    assert patched.json()["taxes"] == [{"name": "VAT", "kind": "percent", "value": 10.0}]
    assert put.status_code == 200
    body = put.json()
    assert (body["min_nights"], body["weekend_price"], body["cleaning_fee"]) == (1, None, 25.0)
    assert body["taxes"] == []
    assert Tax.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"min_nights": 0}, "min_nights"),
        ({"booking_window_days": 731}, "booking_window_days"),
        ({"weekly_discount_percent": 100}, "weekly_discount_percent"),
        ({"weekend_days": [7]}, "weekend_days"),
        ({"taxes": [{"name": "T", "kind": "percent", "value": 101}]}, "taxes"),
        ({"taxes": [{"name": "T", "kind": "flat", "value": 1}]}, "taxes"),
        ({"min_nights": 5, "max_nights": 4}, "min_nights"),
        ({"min_nights": "2"}, "min_nights"),
    ],
)
def test_invalid_rules_are_a_400_naming_the_field_and_change_nothing(user, body, field):
    listing = PropertyFactory.create(owner=user)

    response = client_for(user).patch(rates_url(listing), body, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert not RatePlan.objects.exists()


def test_only_the_owner_writes_rules(api_client, auth_client):
    listing = PropertyFactory.create()

    anonymous = api_client.patch(rates_url(listing), {"min_nights": 2}, format="json")
    stranger = auth_client.put(rates_url(listing), {"min_nights": 2}, format="json")
    days = auth_client.post(
        f"{rates_url(listing)}days/",
        {"edits": [{"start": day(1), "end": day(2), "closed": True}]},
        format="json",
    )

    assert (anonymous.status_code, stranger.status_code, days.status_code) == (401, 403, 403)
    assert not RatePlan.objects.exists()
    assert not RateDay.objects.exists()


def test_bulk_range_edits(user):
    listing = PropertyFactory.create(owner=user)

    response = client_for(user).post(
        f"{rates_url(listing)}days/",
        {
            "edits": [
                {"start": day(1), "end": day(4), "price": "120.00", "min_nights": 2},
                {"start": day(2), "end": day(3), "closed_to_arrival": True, "price": None},
            ]
        },
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == {"dates_changed": 3}
    assert list(
        RateDay.objects.order_by("date").values_list("price", "min_nights", "closed_to_arrival")
    ) == [(Decimal("120"), 2, False), (None, 2, True), (Decimal("120"), 2, False)]


def test_a_bad_item_is_a_400_naming_its_index_and_nothing_is_written(user):
    listing = PropertyFactory.create(owner=user)

    response = client_for(user).post(
        f"{rates_url(listing)}days/",
        {
            "edits": [
                {"start": day(1), "end": day(4), "price": "120.00"},
                {"start": day(1), "end": day(4), "min_nights": 0},
                {"start": day(5), "end": day(4), "closed": True},
            ]
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "edits": ["1: min_nights: Ensure this value is greater than or equal to 1."]
    }
    service = client_for(user).post(
        f"{rates_url(listing)}days/",
        {
            "edits": [
                {"start": day(1), "end": day(4), "closed": True},
                {"start": day(5), "end": day(4), "closed": True},
            ]
        },
        format="json",
    )
    assert service.json()["errors"] == {"edits": ["1: end: Must be after start."]}
    assert not RateDay.objects.exists()


def test_the_calendar_shows_nights_without_who_holds_them(api_client, django_assert_num_queries):
    listing = PropertyFactory.create()
    RatePlanFactory.create(property=listing, min_nights=2)
    Hold.objects.create(
        property=listing, kind=Hold.Kind.BLOCK, start=day(2), end=day(3), note="secret"
    )
    RateDayFactory.create(property=listing, date=day(1), price=Decimal("90"))

    with django_assert_num_queries(4):  # listing, plan, dates, holds
        response = api_client.get(
            f"/api/properties/{listing.pk}/calendar/", {"from": day(0), "to": day(4)}
        )

    assert response.status_code == 200
    assert response.json() == {
        "property_id": listing.pk,
        "currency": "USD",
        "nights": [
            {
                "date": day(n),
                "available": n != 2,
                "price": 90.0 if n == 1 else 75.0,
                "min_nights": 2,
                "closed_to_arrival": n == 2,
                "closed_to_departure": n in (0, 3),
            }
            for n in range(4)
        ],
    }
    assert "secret" not in response.content.decode()


def test_the_calendar_window_is_checked(api_client):
    listing = PropertyFactory.create()

    response = api_client.get(
        f"/api/properties/{listing.pk}/calendar/", {"from": day(5), "to": day(5)}
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"to": ["Must be after from."]}


def test_a_quote_lists_nights_lines_and_total(api_client, django_assert_num_queries):
    plan = RatePlanFactory.create(cleaning_fee=Decimal("20"))
    TaxFactory.create(property=plan.property, value=Decimal("10"))

    with django_assert_num_queries(5):  # listing, plan, dates, holds, taxes
        response = api_client.get(
            f"/api/properties/{plan.property_id}/quote/",
            {"check_in": day(10), "check_out": day(12), "guests": "2"},
        )

    assert response.status_code == 200
    assert response.json() == {
        "property_id": plan.property_id,
        "check_in": day(10),
        "check_out": day(12),
        "guests": 2,
        "bookable": True,
        "instant_book": True,
        "cancellation_policy": "flexible",
        "errors": {},
        "nights": [{"date": day(10), "price": 75.0}, {"date": day(11), "price": 75.0}],
        "lines": [
            {
                "kind": "nights",
                "label": "2 nights at 75.00",
                "quantity": 2,
                "unit_amount": 75.0,
                "amount": 150.0,
            },
            {
                "kind": "cleaning_fee",
                "label": "Cleaning fee",
                "quantity": 1,
                "unit_amount": 20.0,
                "amount": 20.0,
            },
            {
                "kind": "tax",
                "label": "City tax (10%)",
                "quantity": 1,
                "unit_amount": 17.0,
                "amount": 17.0,
            },
        ],
        "total": 187.0,
        "currency": "USD",
    }


def test_a_quote_says_every_reason_a_stay_is_not_bookable(api_client):
    listing = PropertyFactory.create(max_guests=2)
    RatePlanFactory.create(property=listing, min_nights=3)
    Hold.objects.create(property=listing, kind=Hold.Kind.BOOKING, start=day(10), end=day(11))

    response = api_client.get(
        f"/api/properties/{listing.pk}/quote/",
        {"check_in": day(10), "check_out": day(12), "guests": "3"},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["bookable"] is False
    assert body["errors"] == {
        "guests": ["This place takes at most 2 guests."],
        "check_out": [f"Stays arriving on {day(10)} must be at least 3 nights."],
        "nights": [f"The nights from {day(10)} to {day(11)} (check-out day) are already booked."],
    }
    assert body["total"] == 150.0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"check_in": day(5), "check_out": day(5)}, "check_out"),
        ({"check_in": day(5)}, "check_out"),
        ({"check_in": day(5), "check_out": day(6), "guests": "0"}, "guests"),
        ({"check_in": day(5), "check_out": day(6), "guests": "٢"}, "guests"),
        ({"check_in": day(900), "check_out": day(901)}, "check_in"),
    ],
)
def test_a_malformed_quote_is_a_400(api_client, query, field):
    listing = PropertyFactory.create()

    response = api_client.get(f"/api/properties/{listing.pk}/quote/", query)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_unknown_listing_is_a_404(api_client):
    assert api_client.get("/api/properties/999/quote/").status_code == 404
    assert api_client.get("/api/properties/999/calendar/").status_code == 404
    assert api_client.get("/api/properties/999/rates/").status_code == 404


def test_quote_and_calendar_judge_today_in_the_listing_s_zone(api_client):
    west = PropertyFactory.create(time_zone="Pacific/Pago_Pago")  # UTC-11
    east = PropertyFactory.create(time_zone="Pacific/Kiritimati")  # UTC+14
    # 10:30 UTC on 1 June: 31 May 23:30 at Pago Pago, 2 June 00:30 at Kiritimati.
    with time_machine.travel(datetime(2030, 6, 1, 10, 30, tzinfo=UTC), tick=False):
        west_may_31 = api_client.get(
            f"/api/properties/{west.pk}/quote/",
            {"check_in": "2030-05-31", "check_out": "2030-06-01"},
        ).json()
        east_june_1 = api_client.get(
            f"/api/properties/{east.pk}/quote/",
            {"check_in": "2030-06-01", "check_out": "2030-06-02"},
        ).json()
        east_calendar = api_client.get(f"/api/properties/{east.pk}/calendar/").json()

    assert west_may_31["bookable"] is True
    assert east_june_1["errors"] == {"check_in": ["Check-in cannot be in the past."]}
    assert east_calendar["nights"][0]["date"] == "2030-06-02"
    assert len(east_calendar["nights"]) == 90


def test_a_quote_shows_how_a_booking_would_be_made_and_cancelled(api_client):
    listing = PropertyFactory.create(instant_book=False, cancellation_policy="strict")

    response = api_client.get(
        f"/api/properties/{listing.pk}/quote/", {"check_in": day(20), "check_out": day(23)}
    )

    assert (response.json()["instant_book"], response.json()["cancellation_policy"]) == (
        False,
        "strict",
    )


def test_dates_at_the_ends_of_the_calendar_are_refused_not_a_500(api_client):
    """Preparation time shifts dates by days: near year 1 or 9999 that arithmetic must never
    run (a stay there is out of the window anyway)."""
    listing = PropertyFactory.create(time_zone="UTC")
    RatePlanFactory.create(property=listing, preparation_nights=2)
    guest = client_for(UserFactory.create())

    for check_in, check_out, quote_status in [
        ("0001-01-01", "0001-01-02", 200),  # priced, and not bookable: in the past
        ("9999-12-30", "9999-12-31", 400),  # beyond every window: a malformed quote
    ]:
        quote = api_client.get(
            f"/api/properties/{listing.pk}/quote/", {"check_in": check_in, "check_out": check_out}
        )
        assert quote.status_code == quote_status
        body = quote.json()
        assert "check_in" in body["errors"]
        assert body.get("bookable") in (False, None)
        booking = guest.post(
            "/api/bookings/",
            {"property_id": listing.pk, "check_in": check_in, "check_out": check_out},
        )
        assert booking.status_code == 400
        assert "check_in" in booking.json()["errors"]
    calendar = api_client.get(
        f"/api/properties/{listing.pk}/calendar/", {"from": "0001-01-01", "to": "0001-01-05"}
    )
    assert calendar.status_code == 400
    assert "from" in calendar.json()["errors"]
    assert not Booking.objects.exists()


def test_a_stay_priced_past_what_a_booking_holds_is_refused_not_a_500(api_client):
    listing = PropertyFactory.create(price_per_night=Decimal("1000000"), max_guests=50)
    RatePlanFactory.create(property=listing, extra_guest_fee=Decimal("1000000"), guests_included=1)
    TaxFactory.create(property=listing, kind="per_guest_night", value=Decimal("1000000"))
    stay = {"check_in": day(10), "check_out": day(375), "guests": 50}

    quote = api_client.get(f"/api/properties/{listing.pk}/quote/", stay)
    response = client_for(UserFactory.create()).post(
        "/api/bookings/", {"property_id": listing.pk, **stay}
    )

    assert quote.status_code == 200
    assert quote.json()["bookable"] is False
    assert "more than one booking can hold" in quote.json()["errors"]["check_out"][0]
    assert Decimal(str(quote.json()["total"])) > Decimal("9999999999.99")
    assert response.status_code == 400
    assert "more than one booking can hold" in response.json()["errors"]["check_out"][0]
    assert not Booking.objects.exists()
