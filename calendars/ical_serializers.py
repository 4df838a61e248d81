from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from calendars.feeds import feed_url_normalize
from calendars.fetch import url_problem
from calendars.models import IcalFeed
from core.api import fields


class IcalExportOutputSerializer(serializers.Serializer):
    url = serializers.URLField(
        help_text="The secret address of the listing's calendar: paste it into Airbnb, "
        "Booking.com or a calendar app. Shown only now; rotating issues a new one."
    )
    created_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="IcalFeedCreate")
class IcalFeedInputSerializer(serializers.Serializer):
    url = fields.CharField(
        max_length=2000,
        help_text="An http(s) iCalendar URL, e.g. another platform's export link (webcal:// "
        "is read as https://).",
    )
    name = fields.TextField(max_length=100, required=False, allow_blank=True, default="")

    def validate_url(self, value: str) -> str:
        url = feed_url_normalize(value)
        # The shape only; the service checks it again, and every fetch resolves and checks
        # the addresses (calendars/fetch.py).
        problem = url_problem(url)
        if problem:
            raise serializers.ValidationError(f"This URL cannot be imported: {problem}.")
        return url


class IcalConflictSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text="Exclusive: the day the event's stay checks out.")


class IcalSkippedSerializer(serializers.Serializer):
    uid = serializers.CharField()
    reason = serializers.CharField()


class IcalFeedOutputSerializer(serializers.ModelSerializer):
    conflicts = serializers.SerializerMethodField(
        help_text="The feed's events whose nights are already held here (a booking, a block, "
        "another feed): not imported, retried at every sync."
    )
    skipped = IcalSkippedSerializer(
        many=True,
        help_text="The first few events left out (cancelled, free, recurring, unreadable); "
        "`skipped_count` counts them all.",
    )

    class Meta:
        model = IcalFeed
        fields = [
            "id",
            "url",
            "name",
            "created_at",
            "last_sync_at",
            "last_success_at",
            "last_error",
            "event_count",
            "conflict_count",
            "conflicts",
            "skipped_count",
            "skipped",
        ]
        read_only_fields = fields

    @extend_schema_field(IcalConflictSerializer(many=True))
    def get_conflicts(self, feed: IcalFeed) -> list[dict]:
        return [{"start": event.start, "end": event.end} for event in feed.conflict_events]  # type: ignore[attr-defined]
