"""Where a listing is, worked out offline: its time zone from its coordinates (tzfpy), and for a
listing that only gives the seed's free-text `location` ("Nairobi, Kenya"), its city, country,
coordinates and zone from a gazetteer of the world's cities of 100,000 people or more
(data/cities.csv, from GeoNames, CC BY 4.0; data/build_cities.py rebuilds it)."""

import csv
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

import tzfpy
from django_countries import countries

from core.text import fold

CITIES_CSV = Path(__file__).with_name("data") / "cities.csv"


@dataclass(frozen=True)
class City:
    name: str
    country: str
    latitude: Decimal
    longitude: Decimal
    time_zone: str
    population: int


@cache
def _cities_by_name() -> dict[str, list[City]]:
    """Folded name → cities of that name, most populous first (the file's order)."""
    by_name: dict[str, list[City]] = {}
    with CITIES_CSV.open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            city = City(
                name=row["name"],
                country=row["country"],
                latitude=Decimal(row["latitude"]),
                longitude=Decimal(row["longitude"]),
                time_zone=row["time_zone"],
                population=int(row["population"]),
            )
            by_name.setdefault(fold(city.name), []).append(city)
    return by_name


def cities_by_population() -> list[City]:
    """Every gazetteer city, most populous first."""
    cities = [city for named in _cities_by_name().values() for city in named]
    return sorted(cities, key=lambda city: (-city.population, city.name))


def country_code(text: str) -> str | None:
    """The ISO 3166-1 alpha-2 code for a country's code or English name, ignoring case."""
    text = text.strip()
    if len(text) == 2 and text.upper() in countries:
        return text.upper()
    code = countries.by_name(text, insensitive=True)
    return code or None


def city_find(*, name: str, country: str | None = None) -> City | None:
    """The most populous gazetteer city called `name` (ignoring case and accents), in
    `country` when given; None when there is none."""
    for city in _cities_by_name().get(fold(name), []):
        if country is None or city.country == country:
            return city
    return None


def place_from_location(location: str) -> tuple[City | None, str | None]:
    """Read a display line such as "Nairobi, Kenya" or "Old Town, Kraków, PL": the city is
    the first part the gazetteer knows (in the country, when the last part names one), the
    country the last part when it names one. Either may be None."""
    parts = [part.strip() for part in location.split(",") if part.strip()]
    country = country_code(parts[-1]) if len(parts) > 1 else None
    candidates = parts[:-1] if country else parts
    for part in candidates:
        city = city_find(name=part, country=country)
        if city is not None:
            return city, country or city.country
    return None, country


def time_zone_at(*, latitude: Decimal, longitude: Decimal) -> str | None:
    """The IANA zone at a point (the ocean's Etc/GMT±N zones included), None if unknown."""
    return tzfpy.get_tz(float(longitude), float(latitude)) or None
