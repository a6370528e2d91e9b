"""Dataset and version tags: ordered, each once; adding and removing are idempotent. A version's tags are
part of it: changed on a Draft, kept as they are once it is published."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from hyperdatasets.models import Dataset, DatasetTag, DatasetVersion
from hyperdatasets.services.locks import dataset_touch
from hyperdatasets.services.versions import version_lock, version_refuse_if_published
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


def _version_tags_change(version: DatasetVersion, change, action: str) -> list[str]:
    with transaction.atomic():
        current = version_lock(version)
        version_refuse_if_published(current, action)
        tags = change(list(current.tags))
        if tags != current.tags:
            current.tags = tags
            current.save(update_fields=["tags"])
            dataset_touch(current.dataset)
    return tags


def version_tags_add(version: DatasetVersion, tags: list[str] | None) -> list[str]:
    new_tags = clean_tags(tags)
    return _version_tags_change(version, lambda held: held + [t for t in new_tags if t not in held], "tag it")


def version_tags_remove(version: DatasetVersion, tags: list[str] | None) -> list[str]:
    gone = set(clean_tags(tags))
    return _version_tags_change(version, lambda held: [t for t in held if t not in gone], "untag it")
