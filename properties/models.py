from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from core.models import TimeStampedModel
from core.validators import validate_visible_multiline_text, validate_visible_text

MAX_PRICE_PER_NIGHT = Decimal("1000000")


class ListedPropertyManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


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
    location = models.CharField(max_length=255, validators=[validate_visible_text])
    availability = models.BooleanField(default=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ListedPropertyManager()
    all_objects = models.Manager()

    class Meta:
        verbose_name_plural = "properties"
        constraints = [
            models.CheckConstraint(
                condition=Q(price_per_night__gt=0) & Q(price_per_night__lte=MAX_PRICE_PER_NIGHT),
                name="property_price_positive_and_bounded",
            ),
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
        ]

    def __str__(self):
        return self.title

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None
