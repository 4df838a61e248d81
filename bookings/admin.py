from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone

from bookings.models import Booking, BookingRevision, BookingTransition
from bookings.selectors import booking_status_now
from bookings.services import booking_decline, booking_host_cancel
from core.exceptions import ApplicationError


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class BookingTransitionInline(ReadOnlyInline):
    """The booking's history, written only by bookings.transitions."""

    model = BookingTransition
    fields = readonly_fields = (
        "created_at",
        "from_status",
        "to_status",
        "actor_role",
        "actor",
        "reason",
    )


class BookingRevisionInline(ReadOnlyInline):
    model = BookingRevision
    fields = readonly_fields = (
        "created_at",
        "old_check_in",
        "old_check_out",
        "old_guests",
        "old_total_price",
        "new_check_in",
        "new_check_out",
        "new_guests",
        "new_total_price",
    )


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    """Read-only view of bookings; the one change operators make, cancelling, goes through
    booking_cancel so the API's rules (not started, not already cancelled) apply here too."""

    list_display = [
        "id",
        "property",
        "guest",
        "check_in",
        "check_out",
        "nights",
        "total_price",
        "status",
        "created_at",
    ]
    list_filter = ["status", "check_in", "check_out", "created_at"]
    search_fields = ["property__title", "property__location", "guest__username", "guest__email"]
    date_hierarchy = "check_in"
    list_select_related = ["property", "guest"]
    ordering = ["-created_at", "-id"]
    actions = ["cancel_selected"]
    inlines = [BookingTransitionInline, BookingRevisionInline]

    def get_queryset(self, request):
        # The change page is titled by the booking, which names its property.
        return super().get_queryset(request).select_related("property", "guest")

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Booking._meta.fields]

    def has_add_permission(self, request):
        # New stays come only through booking_create (dates, overlap, price rules).
        return False

    def has_delete_permission(self, request, obj=None):
        # Cancel instead: guests and hosts rely on the history.
        return False

    @admin.action(description="Cancel selected bookings")
    def cancel_selected(self, request, queryset):
        cancelled = 0
        # Staff act for the host: the guest is refunded in full (a request is declined), and
        # the history names who did it. Never as the guest, who would pay the policy's fee.
        reason = f"Cancelled by staff ({request.user.get_username()})."
        for booking in queryset.select_related("property__owner"):
            try:
                host = booking.property.owner
                if booking_status_now(booking, now=timezone.now()) == Booking.Status.PENDING:
                    booking_decline(host=host, booking_id=booking.pk, message=reason)
                else:
                    booking_host_cancel(host=host, booking_id=booking.pk, reason=reason)
            except (ApplicationError, ValidationError) as exc:
                self.message_user(request, f"Booking {booking.pk}: {exc}", messages.WARNING)
            else:
                cancelled += 1
        self.message_user(request, f"Cancelled {cancelled} booking(s).", messages.SUCCESS)
