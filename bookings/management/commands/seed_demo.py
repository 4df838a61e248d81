import io
import random
import time
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from PIL import Image, ImageDraw

from accounts.models import User
from bookings.models import Booking
from calendars.models import Hold
from core.cache_generations import AVAILABILITY, LISTINGS, cache_generations_forget_on_commit
from core.stays import utc_today
from photos.services import photo_create
from properties.geography import City, cities_by_population
from properties.models import Amenity, Property, PropertyType, RoomType
from rates.models import RateDay, RatePlan, Tax
from rates.pricing import stay_price

# Demo listings are spread over the world's most populous cities (the gazetteer's order), a
# few thousand metres around each centre, in the city's own time zone.
DEMO_CITIES = 100
KINDS = {
    "Studio": PropertyType.APARTMENT,
    "Loft": PropertyType.LOFT,
    "Apartment": PropertyType.APARTMENT,
    "Cottage": PropertyType.COTTAGE,
    "Villa": PropertyType.VILLA,
    "Guesthouse": PropertyType.GUESTHOUSE,
    "Cabin": PropertyType.CABIN,
    "Townhouse": PropertyType.TOWNHOUSE,
}
ROOM_TYPES = [RoomType.ENTIRE_PLACE] * 7 + [RoomType.PRIVATE_ROOM] * 2 + [RoomType.SHARED_ROOM]
ADJECTIVES = ["Modern", "Cosy", "Sunny", "Quiet", "Spacious", "Charming", "Bright", "Rustic"]
FEATURES = [
    "near the city center",
    "with a garden",
    "with fast Wi-Fi",
    "close to the beach",
    "with a rooftop terrace",
    "next to the market",
    "with free parking",
    "with a view",
]
DEMO_PASSWORD = "demo-password-123"


class Command(BaseCommand):
    help = (
        "Create a deterministic demo data set: users (password "
        f"{DEMO_PASSWORD!r}), properties across several cities (a fifth with rates: rules, "
        "fees, taxes, a dearer fortnight) and confirmed bookings spread over the next year, "
        "priced like real ones, with bulk inserts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=50)
        parser.add_argument("--properties", type=int, default=500)
        parser.add_argument("--bookings", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument(
            "--photos",
            type=int,
            default=12,
            help="how many listings (the first ones) get three generated photos each; the "
            "images are drawn locally, ~20 ms each with their renditions (default 12)",
        )

    def handle(self, *args, users, properties, bookings, seed, batch_size, photos, **options):
        if users < 2:
            raise CommandError("--users must be at least 2 (guests cannot book their own places).")
        if User.objects.filter(username__startswith="demo_").exists():
            raise CommandError("Demo data already exists; seed an empty database.")
        rng = random.Random(seed)
        started = time.monotonic()

        # One hash for every demo account: argon2 per user would dominate the run time.
        password = make_password(DEMO_PASSWORD)
        with transaction.atomic():
            User.objects.bulk_create(
                (
                    User(
                        username=f"demo_{n:06d}",
                        email=f"demo_{n:06d}@example.com",
                        password=password,
                    )
                    for n in range(users)
                ),
                batch_size=batch_size,
            )
            user_ids = list(
                User.objects.filter(username__startswith="demo_")
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            cities = cities_by_population()[:DEMO_CITIES]
            Property.objects.bulk_create(
                (
                    self._property(rng, rng.choice(user_ids), rng.choice(cities))
                    for _ in range(properties)
                ),
                batch_size=batch_size,
            )
            listings = list(
                Property.objects.order_by("pk").values_list(
                    "pk", "owner_id", "price_per_night", "max_guests", "currency"
                )
            )
            self._amenities(rng, [listing[0] for listing in listings], batch_size)
            rules = self._rules(rng, listings, batch_size)
            stays = self._bookings(rng, listings, user_ids, bookings, rules)
            # Each stay holds its nights (calendars.Hold), as booking_create's would.
            holds = Hold.objects.bulk_create(
                (
                    Hold(
                        property_id=stay.property_id,
                        kind=Hold.Kind.BOOKING,
                        start=stay.check_in,
                        end=stay.check_out,
                    )
                    for stay in stays
                ),
                batch_size=batch_size,
            )
            for stay, hold in zip(stays, holds, strict=True):
                stay.hold = hold
            made = Booking.objects.bulk_create(stays, batch_size=batch_size)
            # A running server must see the new rows at once, not after its caches expire.
            cache_generations_forget_on_commit(LISTINGS, AVAILABILITY)

        # Through the upload service (renditions, stored files), after the bulk transaction:
        # photo_create keeps no file of a row that was not saved.
        # Only this run's listings (the owners are this run's demo users).
        photographed = Property.objects.filter(owner_id__in=user_ids).order_by("pk")[
            : max(photos, 0)
        ]
        made_photos = 0
        for listing in photographed:
            for caption in ("Living room", "Bedroom", "View"):
                image = self._image(rng)
                photo_create(
                    listing=listing, image=image, size=len(image.getvalue()), caption=caption
                )
                made_photos += 1

        self.stdout.write(
            f"Created {users} users, {properties} properties, {made_photos} photos and "
            f"{len(made)} bookings "
            f"in {time.monotonic() - started:.1f}s (seed {seed})."
        )

    @staticmethod
    def _rules(rng: random.Random, listings, batch_size: int) -> dict[int, tuple]:
        """Rates for a fifth of the listings: a plan with stay rules and fees, a tax on half of
        them, and a dearer fortnight with a closed arrival day. Returns {listing id: (plan,
        {date: RateDay}, [Tax])} for pricing the demo stays."""
        start = utc_today() + timedelta(days=rng.randint(30, 200))
        plans, days, taxes = [], [], []
        for pk, _, price, _, _ in listings:
            if rng.random() >= 0.2:
                continue
            plans.append(
                RatePlan(
                    property_id=pk,
                    min_nights=rng.choice([1, 1, 2, 3]),
                    max_nights=rng.choice([30, 90, 365]),
                    weekend_price=(price * Decimal("1.2")).quantize(Decimal("0.01"))
                    if rng.random() < 0.5
                    else None,
                    weekly_discount_percent=Decimal(rng.choice([0, 5, 10])),
                    monthly_discount_percent=Decimal(rng.choice([0, 15, 20])),
                    booking_window_days=rng.choice([180, 365, 730]),
                    advance_notice_days=rng.choice([0, 0, 1, 2]),
                    preparation_nights=rng.choice([0, 0, 0, 1]),
                    cleaning_fee=Decimal(rng.choice([0, 20, 40])),
                    extra_guest_fee=Decimal(rng.choice([0, 10])),
                    guests_included=rng.choice([1, 2]),
                )
            )
            if rng.random() < 0.5:
                taxes.append(Tax(property_id=pk, name="City tax", kind="percent", value=Decimal(5)))
            season = start + timedelta(days=rng.randint(0, 120))
            for offset in range(14):
                days.append(
                    RateDay(
                        property_id=pk,
                        date=season + timedelta(days=offset),
                        price=(price * Decimal("1.5")).quantize(Decimal("0.01")),
                        closed_to_arrival=offset == 6,
                    )
                )
        RatePlan.objects.bulk_create(plans, batch_size=batch_size)
        Tax.objects.bulk_create(taxes, batch_size=batch_size)
        RateDay.objects.bulk_create(days, batch_size=batch_size)
        rules: dict[int, tuple] = {plan.property_id: (plan, {}, []) for plan in plans}
        for row in days:
            rules[row.property_id][1][row.date] = row
        for tax in taxes:
            rules[tax.property_id][2].append(tax)
        return rules

    @staticmethod
    def _bookings(rng: random.Random, listings, user_ids, count: int, rules: dict[int, tuple]):
        """Up to `count` confirmed stays in the next year, never overlapping on one property:
        each property's stays follow one another from a per-property cursor."""
        if not listings:
            return []
        # Tomorrow in UTC is today or later in every listing's own time zone.
        today = utc_today() + timedelta(days=1)
        horizon = today + timedelta(days=365)
        cursors: dict[int, date] = {}
        made: list[Booking] = []
        no_rules: tuple = (RatePlan(), {}, [])
        for _ in range(count * 2):  # full properties are skipped; bounded retries
            if len(made) == count:
                break
            pk, owner_id, price, max_guests, currency = rng.choice(listings)
            check_in = cursors.get(pk, today) + timedelta(days=rng.randint(0, 20))
            nights = rng.randint(1, 7)
            check_out = check_in + timedelta(days=nights)
            if check_out > horizon:
                continue
            cursors[pk] = check_out
            guest_id = rng.choice(user_ids)
            if guest_id == owner_id:
                continue
            guests = rng.randint(1, max_guests)
            plan, days, taxes = rules.get(pk, no_rules)
            # Priced as booking_create prices (rates.pricing), from the rules in memory.
            price_lines = stay_price(
                listing=Property(pk=pk, price_per_night=price, currency=currency),
                check_in=check_in,
                check_out=check_out,
                guests=guests,
                plan=plan,
                days=days,
                taxes=taxes,
            )
            made.append(
                Booking(
                    property_id=pk,
                    guest_id=guest_id,
                    check_in=check_in,
                    check_out=check_out,
                    guests=guests,
                    total_price=price_lines.total,
                    currency=currency,
                    price_lines=price_lines.as_json(),
                )
            )
        return made

    @staticmethod
    def _image(rng: random.Random) -> io.BytesIO:
        """A small made-up picture (sky, ground, a house): no download, deterministic."""
        sky = tuple(rng.randrange(120, 220) for _ in range(3))
        image = Image.new("RGB", (800, 600), sky)
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 420, 800, 600), fill=(rng.randrange(40, 90), 140, 60))
        left = rng.randrange(80, 420)
        wall = tuple(rng.randrange(150, 250) for _ in range(3))
        draw.rectangle((left, 260, left + 300, 460), fill=wall)
        draw.polygon([(left - 20, 260), (left + 150, 150), (left + 320, 260)], fill=(150, 40, 30))
        draw.rectangle((left + 125, 360, left + 175, 460), fill=(90, 60, 30))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=80)
        return buffer

    @staticmethod
    def _property(rng: random.Random, owner_id: int, city: City) -> Property:
        kind = rng.choice(list(KINDS))
        guests = rng.choice([1, 2, 2, 2, 3, 4, 4, 5, 6, 8, 10])
        bedrooms = 0 if kind == "Studio" else max(1, guests // 2)
        listing = Property(
            owner_id=owner_id,
            title=f"{rng.choice(ADJECTIVES)} {kind} in {city.name}",
            description=f"A {kind.lower()} {rng.choice(FEATURES)}.",
            price_per_night=Decimal(rng.randrange(2000, 50000)) / 100,
            location=f"{city.name}, {city.country}",
            availability=rng.random() > 0.1,
            room_type=rng.choice(ROOM_TYPES),
            property_type=KINDS[kind],
            max_guests=guests,
            bedrooms=bedrooms,
            beds=max(1, bedrooms) + rng.randint(0, 1),
            bathrooms=Decimal(rng.choice([1, 1, 1, 2, 3])) / 2 + Decimal(rng.randint(0, 1)),
            pets_allowed=rng.random() < 0.3,
            city=city.name,
            country=city.country,
            # Within ~5 km of the centre, so a city's listings spread over a map.
            latitude=city.latitude + Decimal(rng.randint(-4500, 4500)) / 100000,
            longitude=city.longitude + Decimal(rng.randint(-4500, 4500)) / 100000,
            time_zone=city.time_zone,
        )
        listing.refresh_search_fields()  # bulk_create skips save()
        return listing

    @staticmethod
    def _amenities(rng: random.Random, listing_ids: list[int], batch_size: int) -> None:
        """Each listing gets 3 to 12 amenities of the vocabulary, wifi more often than not."""
        amenities = list(Amenity.objects.order_by("code").values_list("pk", "code"))
        wifi = next((pk for pk, code in amenities if code == "wifi"), None)
        through = Property.amenities.through

        def rows():
            for listing_id in listing_ids:
                chosen = {pk for pk, _ in rng.sample(amenities, rng.randint(3, 12))}
                if wifi is not None and rng.random() < 0.8:
                    chosen.add(wifi)
                for amenity_id in sorted(chosen):
                    yield through(property_id=listing_id, amenity_id=amenity_id)

        through.objects.bulk_create(rows(), batch_size=batch_size)
