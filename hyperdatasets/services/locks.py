"""Row locks and change stamps shared by every writer of a dataset."""

from __future__ import annotations

from django.utils import timezone

from hyperdatasets.models import Dataset


def dataset_lock(dataset: Dataset) -> Dataset:
    """Lock the dataset row: every change of its version graph holds this lock, so graph rules see one state."""
    return Dataset.objects.select_for_update(of=("self",)).select_related("project").get(pk=dataset.pk)


def dataset_touch(dataset: Dataset) -> None:
    """Record that the dataset, one of its versions or frames changed."""
    Dataset.objects.filter(pk=dataset.pk).update(updated=timezone.now())
