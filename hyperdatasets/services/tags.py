"""Dataset tags: ordered, each once; adding and removing are idempotent."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from hyperdatasets.models import Dataset, DatasetTag
from hyperdatasets.services.locks import dataset_touch
from hyperdatasets.validation import clean_tags


def dataset_tags_add(dataset: Dataset, tags: list[str] | None) -> list[str]:
    new_tags = clean_tags(tags)
    with transaction.atomic():
        existing = set(DatasetTag.objects.filter(dataset=dataset).values_list("name", flat=True))
        position = DatasetTag.objects.filter(dataset=dataset).aggregate(top=Max("position"))["top"]
        position = -1 if position is None else position
        rows = []
        for tag in new_tags:
            if tag not in existing:
                position += 1
                rows.append(DatasetTag(dataset=dataset, name=tag, position=position))
        DatasetTag.objects.bulk_create(rows)
        if rows:
            dataset_touch(dataset)
    return dataset_tags_get(dataset)


def dataset_tags_remove(dataset: Dataset, tags: list[str] | None) -> list[str]:
    gone = clean_tags(tags)
    with transaction.atomic():
        removed, _ = DatasetTag.objects.filter(dataset=dataset, name__in=gone).delete()
        if removed:
            dataset_touch(dataset)
    return dataset_tags_get(dataset)


def dataset_tags_set(dataset: Dataset, tags: list[str] | None) -> list[str]:
    wanted = clean_tags(tags)
    with transaction.atomic():
        DatasetTag.objects.filter(dataset=dataset).delete()
        DatasetTag.objects.bulk_create(
            DatasetTag(dataset=dataset, name=tag, position=i) for i, tag in enumerate(wanted)
        )
        dataset_touch(dataset)
    return dataset_tags_get(dataset)


def dataset_tags_get(dataset: Dataset) -> list[str]:
    return list(DatasetTag.objects.filter(dataset=dataset).order_by("position").values_list("name", flat=True))
