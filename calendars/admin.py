from django.contrib import admin

from calendars.models import Hold


@admin.register(Hold)
class HoldAdmin(admin.ModelAdmin):
    """Read-only: holds change only through the services (bookings, blocks, feeds), which keep
    the one-holder-per-night rule and the bookings that point at them in step."""

    list_display = ["id", "property", "kind", "start", "end", "expires_at"]
    list_filter = ["kind"]
    list_select_related = ["property"]
    raw_id_fields = ["property"]
    search_fields = ["property__title"]
    date_hierarchy = "start"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
