from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from media_delivery.storage import StorageUnavailable, bucket_ensure


class Command(BaseCommand):
    help = "Create the private media bucket if it is missing and check that it answers."

    def handle(self, *args, **options) -> None:
        try:
            created = bucket_ensure()
        except StorageUnavailable as exc:
            raise CommandError(f"{exc}. Start the S3 server (`make services`) or fix S3_* in .env.") from None
        state = "created" if created else "ready"
        self.stdout.write(
            self.style.SUCCESS(f"Bucket {settings.S3_BUCKET} {state} at {settings.S3_ENDPOINT_URL}")
        )
