from django.contrib import admin, messages

from core.cache_generations import LISTINGS, cache_generations_forget_on_commit
from core.exceptions import ApplicationError
from properties.models import (
    BOOKING_FIELDS,
    CAPACITY_FIELDS,
    HOUSE_RULE_FIELDS,
    PLACE_FIELDS,
    Amenity,
    Property,
)
from properties.services import property_delete


class ListedListFilter(admin.SimpleListFilter):
    title = "listed"
    parameter_name = "listed"

    def lookups(self, request, model_admin):
        return [("yes", "Listed"), ("no", "Unlisted (deleted)")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


@admin.register(Property)
class PropertyAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "title",
        "city",
        "country",
        "room_type",
        "max_guests",
        "price_per_night",
        "currency",
        "availability",
        "owner",
        "created_at",
        "deleted_at",
    ]
    list_filter = [
        "country",
        "room_type",
        "property_type",
        "availability",
        ListedListFilter,
        "created_at",
    ]
    search_fields = ["title", "location", "city", "owner__username"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    filter_horizontal = ["amenities"]
    readonly_fields = ["created_at", "updated_at", "deleted_at"]
    fieldsets = [
        (None, {"fields": ["owner", "title", "description", "availability"]}),
        ("Price", {"fields": ["price_per_night", "currency"]}),
        ("Booking", {"fields": BOOKING_FIELDS}),
        ("The place", {"fields": CAPACITY_FIELDS}),
        ("Amenities", {"fields": ["amenities"]}),
        ("House rules (local times)", {"fields": HOUSE_RULE_FIELDS}),
        ("Address", {"fields": ["location", *PLACE_FIELDS]}),
        ("History", {"fields": ["created_at", "updated_at", "deleted_at"]}),
    ]
    ordering = ["-created_at", "-id"]
    actions = ["unlist_selected"]

    def get_queryset(self, request):
        # Operators see unlisted (soft-deleted) properties too.
        return Property.all_objects.select_related("owner")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        cache_generations_forget_on_commit(LISTINGS)

    def has_delete_permission(self, request, obj=None):
        # A hard delete would break guests' bookings (PROTECT); unlisting soft-deletes and
        # checks for upcoming stays, like the API's DELETE.
        return False

    @admin.action(description="Unlist selected properties (as DELETE in the API)")
    def unlist_selected(self, request, queryset):
        unlisted = 0
        for listing in queryset.filter(deleted_at__isnull=True):
            try:
                property_delete(listing=listing)
            except ApplicationError as exc:
                self.message_user(request, f"{listing}: {exc}", messages.WARNING)
            else:
                unlisted += 1
        self.message_user(request, f"Unlisted {unlisted} propert(ies).", messages.SUCCESS)


@admin.register(Amenity)
class AmenityAdmin(admin.ModelAdmin):
    """The vocabulary: names may be edited freely; a code is public (filters and clients use
    it), so change one only together with every client."""

    list_display = ["code", "name", "category"]
    list_filter = ["category"]
    search_fields = ["code", "name"]
