from datetime import time
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django_countries.fields import CountryField
from iso4217 import Currency

from core.local_time import validate_time_zone
from core.models import TimeStampedModel
from core.stays import MAX_DAYS_AHEAD, MAX_NIGHTS
from core.text import fold
from core.validators import validate_visible_multiline_text, validate_visible_text

MAX_PRICE_PER_NIGHT = Decimal("1000000")
CURRENCY_CODES = sorted(currency.code for currency in Currency)
MAX_GUESTS = 50
MAX_ROOMS = 50
MAX_BEDS = 100
# Bathrooms come in halves (a half bath has no shower): 0, 0.5, 1, ..., 50.
BATHROOM_STEPS = [Decimal(halves) / 2 for halves in range(0, 2 * MAX_ROOMS + 1)]


def validate_currency(value: str) -> None:
    if value not in CURRENCY_CODES:
        raise ValidationError(f"{value} is not an ISO 4217 currency code.")


# The listing's fields by topic, for the services, the serializer and the admin alike.
CAPACITY_FIELDS = ("room_type", "property_type", "max_guests", "bedrooms", "beds", "bathrooms")
HOUSE_RULE_FIELDS = (
    "check_in_from",
    "check_in_until",
    "check_out_until",
    "pets_allowed",
    "smoking_allowed",
    "events_allowed",
    "house_rules",
)
# How guests book: at once or by request, and what cancelling refunds (bookings/policies.py).
BOOKING_FIELDS = ("instant_book", "cancellation_policy")
# The rate plan's stay rules as the listing's row carries them (Property.plan_*).
PLAN_COPY_FIELDS = (
    "plan_min_nights",
    "plan_max_nights",
    "plan_booking_window_days",
    "plan_advance_notice_days",
    "plan_preparation_nights",
)
# The place: what properties.services.property_place_fill works out when a host leaves it out.
PLACE_FIELDS = (
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "latitude",
    "longitude",
    "time_zone",
)

# An amenity code: what the vocabulary's codes look like (the API, the filter and the URL check
# a code against this before any query).
AMENITY_CODE_PATTERN = r"[a-z0-9_]{1,40}"


class Amenity(models.Model):
    """One entry of the fixed amenity vocabulary: `code` is stable (clients and filters use it),
    `name` is for people. Seeded by migration 0005; the admin may rename or add entries."""

    class Category(models.TextChoices):
        ESSENTIALS = "essentials"
        KITCHEN = "kitchen"
        COMFORT = "comfort"
        FAMILY = "family"
        OUTDOORS = "outdoors"
        PARKING = "parking"
        SAFETY = "safety"

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    category = models.CharField(max_length=20, choices=Category.choices)

    class Meta:
        ordering = ["category", "code"]
        verbose_name_plural = "amenities"

    def __str__(self):
        return self.name


class ListedPropertyManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class RoomType(models.TextChoices):
    ENTIRE_PLACE = "entire_place"
    PRIVATE_ROOM = "private_room"
    SHARED_ROOM = "shared_room"


class PropertyType(models.TextChoices):
    APARTMENT = "apartment"
    HOUSE = "house"
    CABIN = "cabin"
    VILLA = "villa"
    COTTAGE = "cottage"
    CONDO = "condo"
    TOWNHOUSE = "townhouse"
    LOFT = "loft"
    BUNGALOW = "bungalow"
    GUESTHOUSE = "guesthouse"
    HOTEL_ROOM = "hotel_room"
    BOAT = "boat"
    OTHER = "other"


class CancellationPolicy(models.TextChoices):
    """The refund a guest gets when cancelling; exact terms in bookings/policies.py and
    docs/booking-lifecycle.md."""

    FLEXIBLE = "flexible"
    MODERATE = "moderate"
    STRICT = "strict"


class Property(TimeStampedModel):
    """A place a host lists. Deletion is soft: `deleted_at` hides the row from the API (the
    default manager skips it) while bookings keep pointing at it, so a guest's past and
    cancelled stays still show the title they booked. Related access (`booking.property`)
    goes through Django's base manager, which sees deleted rows.

    PostgreSQL-only trigram indexes for substring search: migration 0002."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="properties"
    )
    title = models.CharField(max_length=100, validators=[validate_visible_text])
    description = models.TextField(
        max_length=5000, blank=True, default="", validators=[validate_visible_multiline_text]
    )
    price_per_night = models.DecimalField(max_digits=9, decimal_places=2)
    # ISO 4217; every money value about this listing and its bookings is in it. No conversion.
    currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    # The display line ("Nairobi, Kenya"); the structured address below is what search uses.
    location = models.CharField(max_length=255, validators=[validate_visible_text])
    availability = models.BooleanField(default=True)
    # False: a booking is a request the host accepts or declines (bookings/services.py).
    # Database defaults too: code that predates the columns (a rolling deploy, an older
    # migration's state) still inserts rows.
    instant_book = models.BooleanField(default=True, db_default=True)
    cancellation_policy = models.CharField(
        max_length=10,
        choices=CancellationPolicy.choices,
        default=CancellationPolicy.FLEXIBLE,
        db_default=CancellationPolicy.FLEXIBLE,
    )
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    room_type = models.CharField(
        max_length=20, choices=RoomType.choices, default=RoomType.ENTIRE_PLACE
    )
    property_type = models.CharField(
        max_length=20, choices=PropertyType.choices, default=PropertyType.OTHER
    )
    max_guests = models.PositiveSmallIntegerField(default=2)
    bedrooms = models.PositiveSmallIntegerField(default=1)
    beds = models.PositiveSmallIntegerField(default=1)
    bathrooms = models.DecimalField(max_digits=3, decimal_places=1, default=Decimal("1"))
    amenities = models.ManyToManyField(Amenity, blank=True, related_name="properties")

    # House rules; times are local to the listing's time zone. No check_in_until: any hour.
    check_in_from = models.TimeField(default=time(15))
    check_in_until = models.TimeField(null=True, blank=True)
    check_out_until = models.TimeField(default=time(11))
    pets_allowed = models.BooleanField(default=False)
    smoking_allowed = models.BooleanField(default=False)
    events_allowed = models.BooleanField(default=False)
    house_rules = models.TextField(
        max_length=2000, blank=True, default="", validators=[validate_visible_multiline_text]
    )

    street = models.CharField(
        max_length=255, blank=True, default="", validators=[validate_visible_text]
    )
    city = models.CharField(
        max_length=100, blank=True, default="", validators=[validate_visible_text]
    )
    region = models.CharField(
        max_length=100, blank=True, default="", validators=[validate_visible_text]
    )
    postal_code = models.CharField(
        max_length=20, blank=True, default="", validators=[validate_visible_text]
    )
    country = CountryField(blank=True, default="")
    latitude = models.DecimalField(max_digits=8, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    # IANA name: the listing's calendar ("today", check-in deadlines) is judged in it.
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])

    # Derived by the services, for exact case- and accent-insensitive search on both databases
    # (core.text.fold): every word of a query must be in search_text; city matches city_key.
    search_text = models.TextField(blank=True, default="", editable=False)
    city_key = models.CharField(max_length=100, blank=True, default="", editable=False)

    # The stay rules of the listing's rate plan (rates.RatePlan; these defaults without one),
    # copied here by the database: triggers on the plan's table write them (rates migration
    # 0002), whatever writes the plan, and save() below never does. The dated search reads them
    # from the row instead of joining every plan (docs/benchmarks.md, section 15).
    # The defaults are the database's too: a row written without them (a script, or the
    # historical model of an earlier migration) is a listing without a plan.
    plan_min_nights = models.PositiveSmallIntegerField(default=1, db_default=1, editable=False)
    plan_max_nights = models.PositiveSmallIntegerField(
        default=MAX_NIGHTS, db_default=MAX_NIGHTS, editable=False
    )
    plan_booking_window_days = models.PositiveSmallIntegerField(
        default=MAX_DAYS_AHEAD, db_default=MAX_DAYS_AHEAD, editable=False
    )
    plan_advance_notice_days = models.PositiveSmallIntegerField(
        default=0, db_default=0, editable=False
    )
    plan_preparation_nights = models.PositiveSmallIntegerField(
        default=0, db_default=0, editable=False
    )

    objects = ListedPropertyManager()
    all_objects = models.Manager()

    class Meta:
        verbose_name_plural = "properties"
        constraints = [
            models.CheckConstraint(
                condition=Q(price_per_night__gt=0) & Q(price_per_night__lte=MAX_PRICE_PER_NIGHT),
                name="property_price_positive_and_bounded",
            ),
            models.CheckConstraint(
                condition=Q(max_guests__gte=1, max_guests__lte=MAX_GUESTS),
                name="property_max_guests_range",
            ),
            models.CheckConstraint(
                condition=Q(bedrooms__lte=MAX_ROOMS, beds__lte=MAX_BEDS),
                name="property_rooms_range",
            ),
            models.CheckConstraint(
                condition=Q(bathrooms__in=BATHROOM_STEPS), name="property_bathrooms_halves"
            ),
            models.CheckConstraint(
                condition=Q(room_type__in=RoomType.values), name="property_room_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(property_type__in=PropertyType.values),
                name="property_property_type_valid",
            ),
            # Coordinates come in pairs, on the globe.
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(
                    latitude__isnull=False,
                    longitude__isnull=False,
                    latitude__gte=-90,
                    latitude__lte=90,
                    longitude__gte=-180,
                    longitude__lte=180,
                ),
                name="property_coordinates_pair_in_range",
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="property_currency_code"
            ),
            models.CheckConstraint(condition=~Q(time_zone=""), name="property_time_zone_set"),
        ]
        indexes = [
            # The default order (newest first, id as tie-breaker) and the page count.
            models.Index(
                F("created_at").desc(),
                F("id").desc(),
                name="property_listed_newest_idx",
                condition=Q(deleted_at__isnull=True),
            ),
            models.Index(
                "price_per_night",
                "id",
                name="property_listed_price_idx",
                condition=Q(deleted_at__isnull=True),
            ),
            # A city's search count reads only this index (an index-only scan: no row visited
            # for the guests and price filters).
            models.Index(
                "city_key",
                "max_guests",
                "price_per_night",
                name="property_listed_city_idx",
                condition=Q(deleted_at__isnull=True),
            ),
            # A city's page in the default order: without it PostgreSQL walks the newest-first
            # index past every other city's listings (17,000 rows for a page of Mumbai).
            models.Index(
                "city_key",
                F("created_at").desc(),
                F("id").desc(),
                name="property_city_newest_idx",
                condition=Q(deleted_at__isnull=True),
            ),
            models.Index(
                "country",
                "city_key",
                name="property_listed_country_idx",
                condition=Q(deleted_at__isnull=True),
            ),
            # Map viewports and "near" searches first narrow by a latitude band; with the id,
            # a "near" page's candidates and their distances come from the index alone.
            models.Index(
                "latitude",
                "longitude",
                "id",
                name="property_listed_coords_idx",
                condition=Q(deleted_at__isnull=True, latitude__isnull=False),
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        # The search columns are the row's own text, folded: kept in step on every save (the
        # API's, the admin's, a script's). bulk_create skips save(): call refresh_search_fields.
        self.refresh_search_fields()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_text", "city_key"}
        elif not self._state.adding and not kwargs.get("force_insert") and self.pk is not None:
            # An update writes every column but the plan's copies, which only the plan's
            # triggers write: an instance read before a plan change must not save them back.
            # (Deferred columns stay unwritten, as Django leaves them.)
            deferred = self.get_deferred_fields()
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key
                and field.name not in PLAN_COPY_FIELDS
                and field.attname not in deferred
            ]
        super().save(*args, **kwargs)

    def refresh_search_fields(self) -> None:
        self.city_key = fold(self.city)
        self.search_text = fold(" ".join((self.title, self.description, self.location, self.city)))

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None
