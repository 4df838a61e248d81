from django.core.management.base import BaseCommand

from calendars.feeds import ical_feeds_sync_all


class Command(BaseCommand):
    help = (
        "Sync every imported iCal feed of every listed property, one after the other (run it "
        "every few minutes from cron or a systemd timer: docs/deployment.md)."
    )

    def handle(self, *args, **options):
        synced = failed = conflicts = 0
        for outcome in ical_feeds_sync_all():
            feed = outcome.feed
            if outcome.error:
                failed += 1
                self.stdout.write(f"feed {feed.pk} (property {feed.property_id}): {outcome.error}")
            else:
                synced += 1
                conflicts += outcome.conflicts
                self.stdout.write(
                    f"feed {feed.pk} (property {feed.property_id}): {outcome.held} events held, "
                    f"{outcome.conflicts} conflicts, {feed.skipped_count} skipped"
                )
        self.stdout.write(
            f"Synced {synced} feeds ({conflicts} conflicts); {failed} could not be read."
        )
