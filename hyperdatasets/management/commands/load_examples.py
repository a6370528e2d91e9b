from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from hyperdatasets.examples import load_examples


class Command(BaseCommand):
    help = "Create the example datasets (images, annotations, masks, frame groups, a version tree). Idempotent."

    def handle(self, *args, **options):
        owner = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
        created = load_examples(owner)
        if created:
            self.stdout.write(self.style.SUCCESS(f"Created example datasets: {', '.join(created)}"))
        else:
            self.stdout.write("The example datasets exist already; nothing to do.")
