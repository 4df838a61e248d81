"""A listing's rules and prices: one RatePlan (absent = the defaults below), sparse RateDay
overrides (one row per listing and date), and its taxes. Every range rule is also a check
constraint, so a script or the admin cannot store what the API would refuse."""

import builtins
from decimal import Decimal

from django.db import models
from django.db.models import F, Q

from core.stays import MAX_DAYS_AHEAD, MAX_NIGHTS
from properties.models import MAX_GUESTS, MAX_PRICE_PER_NIGHT, Property

# Python's weekday numbers (Monday 0 ... Sunday 6) of the nights that take the weekend price.
DEFAULT_WEEKEND_DAYS = (4, 5)  # Friday and Saturday nights
MAX_NOTICE_DAYS = 30
MAX_PREPARATION_NIGHTS = 30
MAX_DISCOUNT_PERCENT = Decimal("99.99")
MAX_TAXES = 10


def weekdays_mask(days) -> int:
    """Weekday numbers as a bit mask (bit 0 = Monday)."""
    return sum(1 << day for day in set(days))


def mask_weekdays(mask: int) -> list[int]:
    return [day for day in range(7) if mask & (1 << day)]


class RatePlan(models.Model):
    """A listing's stay rules, fees and weekend price. A listing without one uses the field
    defaults (RatePlan(property=listing) unsaved), which are the rules that held before."""

    property = models.OneToOneField(
        Property, on_delete=models.CASCADE, primary_key=True, related_name="rate_plan"
    )
    min_nights = models.PositiveSmallIntegerField(default=1)
    max_nights = models.PositiveSmallIntegerField(default=MAX_NIGHTS)
    # A weekend night's price (None: the listing's price_per_night); which nights: the mask.
    weekend_price = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    weekend_days = models.PositiveSmallIntegerField(default=weekdays_mask(DEFAULT_WEEKEND_DAYS))
    # Five digits so that 100 is stored and refused by the check, not overflowed.
    weekly_discount_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(0)
    )
    monthly_discount_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(0)
    )
    # How many days after the listing's local today a stay may begin.
    booking_window_days = models.PositiveSmallIntegerField(default=MAX_DAYS_AHEAD)
    # Days of notice: an arrival on day D can be booked until D - advance_notice_days at the
    # listing's check_in_from, local time (0: until the end of day D, as before).
    advance_notice_days = models.PositiveSmallIntegerField(default=0)
    # Free nights required between a stay (booking or imported hold) and the next arrival.
    preparation_nights = models.PositiveSmallIntegerField(default=0)
    cleaning_fee = models.DecimalField(max_digits=9, decimal_places=2, default=Decimal(0))
    extra_guest_fee = models.DecimalField(max_digits=9, decimal_places=2, default=Decimal(0))
    guests_included = models.PositiveSmallIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(min_nights__gte=1, max_nights__lte=MAX_NIGHTS)
                & Q(min_nights__lte=F("max_nights")),
                name="rateplan_nights_range",
            ),
            models.CheckConstraint(
                condition=Q(weekend_price__isnull=True)
                | Q(weekend_price__gt=0, weekend_price__lte=MAX_PRICE_PER_NIGHT),
                name="rateplan_weekend_price_range",
            ),
            models.CheckConstraint(
                condition=Q(weekend_days__gte=0, weekend_days__lte=127),
                name="rateplan_weekend_days_mask",
            ),
            models.CheckConstraint(
                condition=Q(weekly_discount_percent__gte=0)
                & Q(weekly_discount_percent__lte=MAX_DISCOUNT_PERCENT)
                & Q(monthly_discount_percent__gte=0)
                & Q(monthly_discount_percent__lte=MAX_DISCOUNT_PERCENT),
                name="rateplan_discounts_range",
            ),
            models.CheckConstraint(
                condition=Q(booking_window_days__gte=1, booking_window_days__lte=MAX_DAYS_AHEAD),
                name="rateplan_booking_window_range",
            ),
            models.CheckConstraint(
                condition=Q(advance_notice_days__lte=MAX_NOTICE_DAYS),
                name="rateplan_advance_notice_range",
            ),
            models.CheckConstraint(
                condition=Q(preparation_nights__lte=MAX_PREPARATION_NIGHTS),
                name="rateplan_preparation_range",
            ),
            models.CheckConstraint(
                condition=Q(cleaning_fee__gte=0, cleaning_fee__lte=MAX_PRICE_PER_NIGHT)
                & Q(extra_guest_fee__gte=0, extra_guest_fee__lte=MAX_PRICE_PER_NIGHT),
                name="rateplan_fees_range",
            ),
            models.CheckConstraint(
                condition=Q(guests_included__gte=1, guests_included__lte=MAX_GUESTS),
                name="rateplan_guests_included_range",
            ),
        ]

    def __str__(self):
        return f"Rates of property {self.property_id}"

    # `property` is a field name here, so the decorator is spelled out.
    @builtins.property
    def weekend_weekdays(self) -> list[int]:
        return mask_weekdays(self.weekend_days)


class RateDay(models.Model):
    """One date of one listing whose rules differ from the plan's. Null price / min_nights mean
    "the default"; a row with nothing left is deleted (the constraint refuses an empty one)."""

    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="rate_days")
    date = models.DateField()
    price = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    # The shortest stay arriving on this date (overrides the plan's min_nights).
    min_nights = models.PositiveSmallIntegerField(null=True, blank=True)
    closed = models.BooleanField(default=False)  # the night of this date cannot be booked
    closed_to_arrival = models.BooleanField(default=False)
    closed_to_departure = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["property", "date"], name="rateday_one_per_date"),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gt=0, price__lte=MAX_PRICE_PER_NIGHT),
                name="rateday_price_range",
            ),
            models.CheckConstraint(
                condition=Q(min_nights__isnull=True)
                | Q(min_nights__gte=1, min_nights__lte=MAX_NIGHTS),
                name="rateday_min_nights_range",
            ),
            models.CheckConstraint(
                condition=Q(price__isnull=False)
                | Q(min_nights__isnull=False)
                | Q(closed=True)
                | Q(closed_to_arrival=True)
                | Q(closed_to_departure=True),
                name="rateday_not_empty",
            ),
        ]

    def __str__(self):
        return f"{self.property_id} {self.date}"


class Tax(models.Model):
    """A tax a listing adds on top of its prices: a percentage of the stay's subtotal (nights,
    discounts, cleaning and extra-guest fees) or an amount per guest per night."""

    class Kind(models.TextChoices):
        PERCENT = "percent"
        PER_GUEST_NIGHT = "per_guest_night"

    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="taxes")
    name = models.CharField(max_length=60)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    value = models.DecimalField(max_digits=9, decimal_places=2)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "taxes"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="percent", value__gt=0, value__lte=100)
                | Q(kind="per_guest_night", value__gt=0, value__lte=MAX_PRICE_PER_NIGHT),
                name="tax_kind_value_range",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="tax_name_set"),
        ]

    def __str__(self):
        return self.name
