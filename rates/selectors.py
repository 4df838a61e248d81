"""The one stay check (stay_errors), the dated search that agrees with it exactly
(property_bookable_between), and a listing's night-by-night calendar.

Rules, as both the check and the search apply them ("local" = the listing's time zone):
- check_in is not before the local today, at most `booking_window_days` after it;
- advance notice N > 0 days: an arrival on day D can be booked while the local wall clock is
  before D - N days at the listing's check_in_from; N = 0 allows it all through day D;
- nights between min_nights (the arrival date's RateDay.min_nights, else the plan's) and
  max_nights; no closed night in [check_in, check_out); check_in not closed to arrival,
  check_out not closed to departure;
- guests <= max_guests; the listing's availability flag is on;
- no active hold (any kind) shares a night with the stay, and with preparation P > 0, no stay
  hold (booking or import) lies within P nights of it: [check_in - P, check_out + P) is clear
  of them, so P free nights separate every two stays."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connections
from django.db.models import (
    BooleanField,
    DateField,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.lookups import IsNull

from calendars.models import Hold
from calendars.selectors import (
    hold_active_q,
    hold_overlap_q,
    holds_overlapping_loaded,
    holds_taking,
)
from calendars.services import hold_taken_message
from core.compiled_queries import deferrable
from core.db.night_masks import MaskClear
from core.local_time import time_zone_names, zones_by_utc_offset
from core.stays import stay_shape_errors
from properties.models import Property
from rates.models import MAX_NOTICE_DAYS, RateDay, RatePlan
from rates.pricing import night_price, rate_days_between, rate_plan_of

# Holds that are somebody's stay: preparation time is kept around these, not around blocks.
STAY_KINDS = (Hold.Kind.BOOKING, Hold.Kind.IMPORT)
# The keys of stay_errors that are not about the request's shape: what booking_create turns into
# 409s (nights taken or closed; a listing its host switched off) rather than 400s.
NIGHTS = "nights"
LISTING = "property"


def local_wall_clock(time_zone: str, now: datetime) -> datetime:
    """The listing's wall clock at `now`, without zone: what its advance notice is judged on."""
    return now.astimezone(ZoneInfo(time_zone)).replace(tzinfo=None)


def notice_deadline(*, listing: Property, plan: RatePlan, check_in: date) -> datetime | None:
    """The last local wall-clock moment (exclusive) an arrival on `check_in` can be booked, or
    None without advance notice."""
    if plan.advance_notice_days == 0:
        return None
    return datetime.combine(
        check_in - timedelta(days=plan.advance_notice_days), listing.check_in_from
    )


def stay_errors(
    *,
    listing: Property,
    check_in: date,
    check_out: date,
    guests: int,
    now: datetime,
    exclude_hold: Hold | None = None,
    plan: RatePlan | None = None,
    days: dict[date, RateDay] | None = None,
) -> dict[str, list[str]]:
    """Every reason a stay of `guests` over [check_in, check_out) cannot be booked at `listing`
    at `now`, keyed by field (check_in, check_out, guests, nights, property); empty when it can.
    `exclude_hold` is ignored (a booking's own hold when its dates change). Never says who
    holds a night."""
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    shape = stay_shape_errors(check_in=check_in, check_out=check_out)
    if guests > listing.max_guests:
        add("guests", f"This place takes at most {listing.max_guests} guests.")
    if shape:
        return {**shape, **errors}
    if plan is None:
        plan = rate_plan_of(listing)
    if days is None:
        days = rate_days_between(listing=listing, start=check_in, end=check_out)
    wall_clock = local_wall_clock(listing.time_zone, now)
    today = wall_clock.date()
    count = (check_out - check_in).days

    # A check-in outside [today, today + window] can never be booked: the reasons that depend
    # on other stays are moot (and their date arithmetic would leave the calendar near year 1
    # or 9999).
    is_in_window = False
    if check_in < today:
        add("check_in", "Check-in cannot be in the past.")
    elif (check_in - today).days > plan.booking_window_days:
        add("check_in", f"Check-in cannot be more than {plan.booking_window_days} days ahead.")
    else:
        is_in_window = True
        deadline = notice_deadline(listing=listing, plan=plan, check_in=check_in)
        if deadline is not None and wall_clock >= deadline:
            add(
                "check_in",
                f"Arrivals on {check_in} need {plan.advance_notice_days} days' notice: they "
                f"could be booked until {deadline:%Y-%m-%d %H:%M} local time.",
            )
    arrival = days.get(check_in)
    if arrival is not None and arrival.closed_to_arrival:
        add("check_in", f"No arrivals on {check_in}.")
    departure = days.get(check_out)
    if departure is not None and departure.closed_to_departure:
        add("check_out", f"No departures on {check_out}.")
    minimum = plan.min_nights
    if arrival is not None and arrival.min_nights is not None:
        minimum = arrival.min_nights
    if count < minimum:
        add("check_out", f"Stays arriving on {check_in} must be at least {minimum} nights.")
    if count > plan.max_nights:
        add("check_out", f"Stays cannot be longer than {plan.max_nights} nights.")

    closed = sorted(day for day, row in days.items() if row.closed and check_in <= day < check_out)
    if closed:
        add(NIGHTS, f"Closed nights: {', '.join(str(day) for day in closed)}.")
    if not is_in_window:
        if not listing.availability:
            add(LISTING, "This property is not open for booking.")
        return errors
    prep = plan.preparation_nights
    holds = holds_overlapping_loaded(
        property_id=listing.pk,
        start=check_in - timedelta(days=prep),
        end=check_out + timedelta(days=prep),
        active_at=now,
        exclude_id=exclude_hold.pk if exclude_hold is not None else None,
    )
    for hold in holds:
        if hold.start < check_out and hold.end > check_in:
            add(NIGHTS, hold_taken_message(hold))  # calendars' own refusal (hold_create)
        elif hold.kind in STAY_KINDS:
            add(
                NIGHTS,
                f"This place needs {prep} free nights between stays: another stay is from "
                f"{hold.start} to {hold.end}.",
            )
    if not listing.availability:
        add(LISTING, "This property is not open for booking.")
    return errors


class CalendarOpen(Func):
    """The listing's calendar lets a stay begin on `check_in` at `now`: on or after its local
    today, within its booking window, and before its advance notice runs out. Exact in every
    zone: branches per date, and per UTC offset for the notice, that the world shows at `now`,
    each naming the shorter of a zone list and its complement; a notice (at most
    MAX_NOTICE_DAYS) needs no branch for zones further ahead than that, so a search more than a
    month out names few zones. Written as SQL here, not Q objects, because hundreds of zone
    names in a few dozen Q branches were copied with every clone of the queryset (a dated
    search went from 12 to 65 ms in-process; 24 ms now). PostgreSQL gets each list as one
    array parameter."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, *, window, notice, check_in: date, now: datetime):
        super().__init__(window, notice, F("check_in_from"), F("time_zone"))
        self.check_in, self.now = check_in, now

    # The stubs type params as str | int; these also hold arrays of zone names and times.
    def as_sql(self, compiler, connection, **extra_context):  # type: ignore[override]
        compiled = [compiler.compile(expression) for expression in self.source_expressions]
        # Which zones each branch names depends on check_in and now, not only its parameters:
        # a query template renders this part again for each request (the names are those of
        # properties.selectors.PropertyCriteria).
        return deferrable(
            lambda check_in, now: self._sql(compiled, connection, check_in, now),
            check_in=self.check_in,
            now=self.now,
        )

    def _sql(self, compiled, connection, check_in: date, now: datetime) -> tuple[str, list]:
        (window, window_params), (notice, notice_params) = compiled[0], compiled[1]
        check_in_from, zone = compiled[2][0], compiled[3][0]
        every_zone = time_zone_names()

        def zones_sql(zones, *, inside: bool) -> tuple[str, list]:
            # `zone IN zones` (or NOT IN), written with whichever list is shorter.
            zones = set(zones)
            if len(zones) > len(every_zone) / 2:
                zones, inside = every_zone - zones, not inside
            if not zones:
                return ("1 = 1" if not inside else "1 = 0"), []
            names = sorted(zones)
            operator = "" if inside else "NOT "
            if connection.vendor == "postgresql":
                return f"{operator}({zone} = ANY(%s))", [names]
            return f"{zone} {operator}IN ({', '.join(['%s'] * len(names))})", names

        utc_clock = now.astimezone(UTC).replace(tzinfo=None)
        # (days from the local today to check_in, wall clock, zones), one per UTC offset.
        clocks = [
            ((check_in - (utc_clock + offset).date()).days, utc_clock + offset, zones)
            for offset, zones in zones_by_utc_offset(now)
        ]
        ahead_values = sorted({ahead for ahead, _, _ in clocks if ahead >= 0})
        if not ahead_values:
            return "1 = 0", []  # in the past everywhere

        # Window: window >= the zone's days ahead. The largest `ahead` suffices anywhere; a
        # smaller one a suffices for the zones no more than a days ahead.
        branches, params = [f"{window} >= %s"], [*window_params, ahead_values[-1]]
        for limit in ahead_values[:-1]:
            further = [name for ahead, _, zones in clocks if ahead > limit for name in zones]
            not_further, zone_params = zones_sql(further, inside=False)
            branches.append(f"({not_further} AND {window} >= %s)")
            params += [*zone_params, *window_params, limit]
        sql = f"({' OR '.join(branches)})"
        past = [name for ahead, _, zones in clocks if ahead < 0 for name in zones]
        if past:
            not_past, zone_params = zones_sql(past, inside=False)
            sql += f" AND {not_past}"
            params += zone_params

        # Advance notice N (at most MAX_NOTICE_DAYS): N < days ahead, or N == days ahead before
        # the check-in time on the zone's wall clock. Zones further ahead than any notice need
        # no branch of their own.
        near = [(ahead, clock, zones) for ahead, clock, zones in clocks if ahead <= MAX_NOTICE_DAYS]
        if near:
            branches = [f"{notice} = 0"]
            notice_all = [*notice_params]
            far, zone_params = zones_sql(
                [name for _, _, zones in near for name in zones], inside=False
            )
            branches.append(far)
            notice_all += zone_params
            for ahead, clock, zones in near:
                if ahead < 0:
                    continue  # refused as in the past above
                in_zones, zone_params = zones_sql(zones, inside=True)
                branches.append(
                    f"({in_zones} AND ({notice} < %s OR ({notice} = %s AND {check_in_from} > %s)))"
                )
                notice_all += [
                    *zone_params,
                    *notice_params,
                    ahead,
                    *notice_params,
                    ahead,
                    connection.ops.adapt_timefield_value(clock.time()),
                ]
            sql += f" AND ({' OR '.join(branches)})"
            params += notice_all
        return f"({sql})", params


class AddDays(Func):
    """date + integer days, as a date, on both databases."""

    output_field = DateField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="(%(expressions)s)", arg_joiner="::date + "
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        # SQLite's date() takes a modifier such as "3 days" or "-3 days".
        return self.as_sql(
            compiler, connection, template="date(%(expressions)s || ' days')", arg_joiner=", "
        )


def _none_refuse(rows: QuerySet, vendor: str, *, mask: str, start, end, bounds: str = "[)"):
    """For a properties queryset: no row of `rows` (a subquery of the listing's holds or day
    rows) refuses the stay. On PostgreSQL the listing's night `mask` over [start, end) (with
    `bounds`) clears most listings without a probe, and the rows decide where it says "maybe"
    (core.db.night_masks): a scalar subquery, not EXISTS, which under OR PostgreSQL may hash
    over every listing's rows (see arrival_minimum)."""
    if vendor != "postgresql":
        return ~Exists(rows)
    return MaskClear(mask, start, end, bounds=bounds) | IsNull(
        Subquery(rows.values("pk")[:1]), True
    )


def property_bookable_between(
    queryset: QuerySet[Property],
    *,
    check_in: date,
    check_out: date,
    guests: int,
    now: datetime,
    nights: int | None = None,
) -> QuerySet[Property]:
    """Properties a booking of [check_in, check_out) for `guests` would succeed on at `now`
    (bar booking one's own): stay_errors' rules as one SQL condition, exact for every listing's
    zone, so that counts and pages are exact. The stay's shape must already be valid. `nights`,
    the stay's length, may be given: a query template binds it like the dates (every parameter
    of its SQL must be one of its values, core.compiled_queries). The plan's stay rules come
    from the listing's row (Property.plan_*, copied by the database): joining the plans hashed
    every one of them for each search (docs/benchmarks.md, section 15)."""
    count = (check_out - check_in).days if nights is None else nights
    # Every day row that refuses the stay, in one probe of the (listing, date) index per
    # listing: a closed night, arrival or departure closed, or an arrival minimum above the
    # stay's nights (the arrival day's minimum overrides the plan's).
    refusing_day = RateDay.objects.filter(
        property_id=OuterRef("pk"), date__gte=check_in, date__lte=check_out
    ).filter(
        Q(date__lt=check_out, closed=True)
        | Q(date=check_in, closed_to_arrival=True)
        | Q(date=check_out, closed_to_departure=True)
        | Q(date=check_in, min_nights__gt=count)
    )
    # The plan's minimum holds unless the arrival day sets its own (then refusing_day decides).
    # A scalar subquery, not Exists: PostgreSQL turned an EXISTS under OR into one scan of every
    # listing's day rows for the date (20 ms at 100,000 listings); this probes the (listing,
    # date) index only for the listings whose plan's minimum is longer than the stay.
    arrival_minimum = Subquery(
        RateDay.objects.filter(property_id=OuterRef("pk"), date=check_in).values("min_nights")[:1]
    )
    near_stay = Hold.objects.filter(
        hold_active_q(now=now),
        property_id=OuterRef("pk"),
        kind__in=STAY_KINDS,
        start__lt=AddDays(Value(check_out), OuterRef("plan_preparation_nights")),
        end__gt=AddDays(Value(check_in), OuterRef("plan_preparation_nights") * Value(-1)),
    )
    vendor = connections[queryset.db].vendor
    prep = F("plan_preparation_nights")
    days_clear = _none_refuse(
        refusing_day, vendor, mask="rule_dates", start=check_in, end=check_out, bounds="[]"
    )
    nights_free = _none_refuse(
        holds_taking(start=check_in, end=check_out, now=now),
        vendor,
        mask="held_nights",
        start=check_in,
        end=check_out,
    )
    prep_clear = Q(plan_preparation_nights=0) | _none_refuse(
        near_stay,
        vendor,
        mask="held_nights",
        start=AddDays(Value(check_in), prep * Value(-1)),
        end=AddDays(Value(check_out), prep),
    )
    return queryset.alias(_arrival_minimum=arrival_minimum).filter(
        CalendarOpen(
            window=F("plan_booking_window_days"),
            notice=F("plan_advance_notice_days"),
            check_in=check_in,
            now=now,
        ),
        days_clear,
        Q(plan_min_nights__lte=count) | Q(_arrival_minimum__isnull=False),
        nights_free,
        prep_clear,
        plan_max_nights__gte=count,
        availability=True,
        max_guests__gte=guests,
    )


@dataclass(frozen=True)
class CalendarNight:
    date: date
    available: bool
    price: Decimal
    min_nights: int
    closed_to_arrival: bool
    closed_to_departure: bool


def calendar_nights(
    *, listing: Property, start: date, end: date, now: datetime
) -> list[CalendarNight]:
    """Each date of [start, end) for a date picker (three queries):
    - available: the night can be part of a stay (on or after the local today, not held, not
      closed, the listing open);
    - closed_to_arrival: no stay may begin that day (the night is unavailable, the date is closed
      to arrival, too late for the advance notice, or too close after another stay);
    - closed_to_departure: no stay may end that day (the night before is unavailable, the date is
      closed to departure, or another stay begins too soon after it);
    - min_nights: the shortest stay arriving that day. Never who holds a night."""
    plan = rate_plan_of(listing)
    days = rate_days_between(listing=listing, start=start - timedelta(days=1), end=end)
    prep = plan.preparation_nights
    holds = list(
        Hold.objects.filter(
            hold_overlap_q(start=start - timedelta(days=prep + 1), end=end + timedelta(days=prep)),
            hold_active_q(now=now),
            property_id=listing.pk,
        ).only("start", "end", "kind")
    )
    wall_clock = local_wall_clock(listing.time_zone, now)
    today = wall_clock.date()

    def held(night: date) -> bool:
        return any(hold.start <= night < hold.end for hold in holds)

    def available(night: date) -> bool:
        row = days.get(night)
        return (
            listing.availability
            and today <= night
            and not (row is not None and row.closed)
            and not held(night)
        )

    def stay_within_prep(day: date, *, after: bool) -> bool:
        if prep == 0:
            return False
        if after:  # a stay ends within the P days before `day`
            return any(
                h.kind in STAY_KINDS and day - timedelta(days=prep) < h.end <= day for h in holds
            )
        return any(
            h.kind in STAY_KINDS and day <= h.start < day + timedelta(days=prep) for h in holds
        )

    nights = []
    day = start
    while day < end:
        row = days.get(day)
        is_available = available(day)
        deadline = notice_deadline(listing=listing, plan=plan, check_in=day)
        no_arrival = (
            not is_available
            or (row is not None and row.closed_to_arrival)
            or (day - today).days > plan.booking_window_days
            or (deadline is not None and wall_clock >= deadline)
            or stay_within_prep(day, after=True)
        )
        no_departure = (
            not available(day - timedelta(days=1))
            or (row is not None and row.closed_to_departure)
            or stay_within_prep(day, after=False)
        )
        minimum = (
            row.min_nights if row is not None and row.min_nights is not None else plan.min_nights
        )
        nights.append(
            CalendarNight(
                date=day,
                available=is_available,
                price=night_price(listing=listing, plan=plan, day=row, night=day),
                min_nights=minimum,
                closed_to_arrival=no_arrival,
                closed_to_departure=no_departure,
            )
        )
        day += timedelta(days=1)
    return nights
