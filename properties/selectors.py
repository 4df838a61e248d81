import math
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, F, FloatField, OuterRef, Q, QuerySet, Value
from django.db.models.functions import (
    ASin,
    Cast,
    Cos,
    Least,
    Power,
    Radians,
    Sin,
    Sqrt,
    Substr,
)

from core.cache_generations import LISTINGS, cache_generations_get_or_compute
from core.compiled_queries import CompiledQuery
from core.text import fold
from photos.models import Photo
from photos.selectors import photo_covers, photo_rows
from properties.models import Amenity, Property

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG), as great-circle distances use

# What a list row (a listing card) shows: no description (up to 5,000 characters), a short
# summary instead; the rest of the detail's fields that a card or a map needs.
LIST_ROW_FIELDS = (
    "id",
    "title",
    "price_per_night",
    "currency",
    "location",
    "availability",
    "room_type",
    "property_type",
    "max_guests",
    "bedrooms",
    "beds",
    "bathrooms",
    "city",
    "country",
    "latitude",
    "longitude",
    "time_zone",
    "created_at",
    "updated_at",
)
SUMMARY_LENGTH = 160

LISTED_COUNT_CACHE_KEY = "properties:listed-count"


def property_list() -> QuerySet[Property]:
    """Listed (not deleted) properties with their owner, newest first; id breaks ties so
    pages never repeat or skip a row."""
    return Property.objects.select_related("owner").order_by("-created_at", "-id")


# The detail shows every column of the row but these (derived search columns, the soft-delete
# mark, the owner's id: the owner's username is shown instead).
_DETAIL_HIDDEN_COLUMNS = {"search_text", "city_key", "deleted_at", "owner_id"}
DETAIL_COLUMNS = tuple(
    field.attname
    for field in Property._meta.concrete_fields
    if field.attname not in _DETAIL_HIDDEN_COLUMNS
)
_NO_ID = -7_000_000_001  # a placeholder no row has (core.compiled_queries)

_DETAIL_ROW = CompiledQuery(
    lambda property_id: Property.objects.filter(pk=property_id).values(
        *DETAIL_COLUMNS, owner_username=F("owner__username")
    )[:1],
    property_id=_NO_ID,
)
_DETAIL_AMENITY_CODES = CompiledQuery(
    lambda property_id: (
        Amenity.objects.filter(properties=property_id)
        .order_by("category", "code")  # the vocabulary's order (Amenity.Meta.ordering)
        .values("code")
    ),
    property_id=_NO_ID,
)


def property_detail_parts(*, property_id: int) -> tuple[dict, list[str], list[Photo]] | None:
    """A listed property's columns (DETAIL_COLUMNS and `owner_username`), its amenity codes in
    vocabulary order and its photos in order, or None: three queries, each compiled once per
    process (the detail is the hottest read)."""
    rows = _DETAIL_ROW.rows(property_id=property_id)
    if not rows:
        return None
    codes = [row["code"] for row in _DETAIL_AMENITY_CODES.rows(property_id=property_id)]
    return rows[0], codes, photo_rows(property_id=property_id)


def property_rows(queryset: QuerySet[Property]) -> QuerySet:
    """The properties as dicts of LIST_ROW_FIELDS plus `owner_username`, the beginning of the
    description (`summary_source`) and `distance_km` when the queryset has it: what a list row
    shows, without building model instances."""
    extra = {"distance_km": F("distance_km")} if "distance_km" in queryset.query.annotations else {}
    return queryset.values(
        *LIST_ROW_FIELDS,
        owner_username=F("owner__username"),
        # One more character than a summary shows, so summary_of knows when to cut.
        summary_source=Substr("description", 1, SUMMARY_LENGTH + 1),
        **extra,
    )


def property_page_rows(page: QuerySet[Property]) -> list[dict]:
    """The rows of one page of a filtered, ordered and sliced property queryset, as dicts
    (property_rows' plus `cover_photo`, a Photo or None), in the page's order: two queries,
    whatever the page's size.

    A deferred join: the inner query picks the page's ids (an index-only scan of the order's
    index when nothing else filters), the outer one reads and joins those rows only. With a
    plain OFFSET, PostgreSQL fetches and joins every skipped row: at page 4,000 that is 80,000
    heap rows and owner look-ups for 20 results."""
    outer = Property.objects.filter(pk__in=page.values("pk"))
    if "distance_km" in page.query.annotations:
        outer = outer.annotate(distance_km=page.query.annotations["distance_km"])
    rows = list(property_rows(outer.order_by(*page.query.order_by)))
    covers = photo_covers(property_ids=[row["id"] for row in rows])
    for row in rows:
        row["cover_photo"] = covers.get(row["id"])
    return rows


def property_search(queryset: QuerySet[Property], *, text: str) -> QuerySet[Property]:
    """Properties whose title, description, location or city contain every word of `text`,
    ignoring case and accents ("studio nairobi" finds a Nairobi studio)."""
    for word in fold(text).split():
        queryset = queryset.filter(search_text__contains=word)
    return queryset


def amenities_by_code(*, codes: list[str]) -> tuple[list[Amenity], list[str]]:
    """The amenities named by `codes` in their order (repeats once), and the codes no amenity
    has, sorted: one query."""
    found = {amenity.code: amenity for amenity in Amenity.objects.filter(code__in=codes)}
    unknown = sorted(set(codes) - set(found))
    return [found[code] for code in dict.fromkeys(codes) if code in found], unknown


def property_with_amenities(queryset: QuerySet[Property], *, codes: list[str]) -> QuerySet:
    """Properties that have every amenity of `codes` (one EXISTS each)."""
    for code in codes:
        queryset = queryset.filter(
            Exists(
                Amenity.properties.through.objects.filter(
                    property_id=OuterRef("pk"), amenity__code=code
                )
            )
        )
    return queryset


def property_in_bounds(
    queryset: QuerySet[Property],
    *,
    south: Decimal | float,
    west: Decimal | float,
    north: Decimal | float,
    east: Decimal | float,
) -> QuerySet[Property]:
    """Properties inside a map's viewport. West greater than east means the box crosses the
    antimeridian (e.g. Fiji: west 177, east -178): longitudes from west to 180 and from -180 to
    east."""
    latitudes = Q(latitude__gte=south, latitude__lte=north)
    if west <= east:
        return queryset.filter(latitudes, longitude__gte=west, longitude__lte=east)
    return queryset.filter(latitudes, Q(longitude__gte=west) | Q(longitude__lte=east))


def _haversine_km(latitude: float, longitude: float):
    """Great-circle distance in km from a point to each row, as a database expression
    (haversine; both databases have the functions: Django registers them on SQLite)."""
    row_latitude = Cast("latitude", FloatField())
    row_longitude = Cast("longitude", FloatField())
    half_dlat = Radians(row_latitude - Value(latitude)) / 2
    half_dlng = Radians(row_longitude - Value(longitude)) / 2
    a = Power(Sin(half_dlat), 2) + Cos(Radians(Value(latitude))) * Cos(
        Radians(row_latitude)
    ) * Power(Sin(half_dlng), 2)
    # Least(..., 1): rounding can push `a` a hair over 1 for antipodal points.
    return Value(2 * EARTH_RADIUS_KM) * ASin(Sqrt(Least(a, Value(1.0))))


def property_near(
    queryset: QuerySet[Property], *, latitude: float, longitude: float, radius_km: float
) -> QuerySet[Property]:
    """Properties within `radius_km` of a point (great circle), annotated with `distance_km`.
    A latitude band (and, away from the poles and the antimeridian, a longitude band) first
    narrows the rows with the coordinates index; the exact distance decides."""
    band = math.degrees(radius_km / EARTH_RADIUS_KM)
    south, north = max(-90.0, latitude - band), min(90.0, latitude + band)
    # Longitude degrees shrink towards the poles: the band widens by 1/cos of the latitude.
    spread = 180.0
    if abs(latitude) + band < 89:
        spread = min(180.0, band / math.cos(math.radians(abs(latitude) + band)))
    west, east = -180.0, 180.0
    if spread < 180:
        # Past the antimeridian the box wraps; property_in_bounds reads west > east as that.
        west, east = longitude - spread, longitude + spread
        west, east = (west + 360 if west < -180 else west), (east - 360 if east > 180 else east)
    narrowed = property_in_bounds(queryset, south=south, west=west, north=north, east=east)
    return narrowed.annotate(distance_km=_haversine_km(latitude, longitude)).filter(
        distance_km__lte=Value(radius_km, output_field=FloatField())
    )


def property_listed_count() -> int:
    """How many properties are listed, from the shared cache: an exact COUNT(*) over 100,000
    rows costs ~12 ms on PostgreSQL, a cache read well under one. Filed under the LISTINGS
    generation, which every property write replaces on commit (core/cache_generations.py), for
    every process at once."""
    return cache_generations_get_or_compute(
        generations=(LISTINGS,),
        key=LISTED_COUNT_CACHE_KEY,
        compute=lambda: Property.objects.count(),
        timeout=settings.PROPERTY_COUNT_CACHE_SECONDS,
        name="property_count",
    )
