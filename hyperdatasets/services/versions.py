"""Writes of the version graph: create, publish, delete, rename, metadata and mask labels."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from annotations.mask_labels import MASK_LABELS_KEY, mask_labels_from_mapping
from hyperdatasets.exceptions import AlreadyExists, InvalidInput, NotFound, StateConflict
from hyperdatasets.models import Dataset, DatasetVersion, VersionParent, VersionStatus
from hyperdatasets.selectors.datasets import parse_uuid
from hyperdatasets.services.frame_inheritance import ancestors_for, version_frames_inherit
from hyperdatasets.services.frame_rows import version_rows_delete
from hyperdatasets.services.locks import dataset_lock, dataset_touch
from hyperdatasets.services.projects import _user_or_none
from hyperdatasets.validation import clean_metadata, clean_name, clean_name_list, clean_text

MAX_PARENTS = 16


def version_refuse_if_published(version: DatasetVersion, action: str) -> None:
    if version.status == VersionStatus.PUBLISHED:
        raise StateConflict(
            f"version {version.name!r} is Published and read-only; cannot {action}. "
            "Create a child version to make changes."
        )


def version_lock(version: DatasetVersion) -> DatasetVersion:
    """Lock the version's dataset and return the version as it is now (its status may have changed)."""
    dataset_lock(version.dataset)
    try:
        return DatasetVersion.objects.select_related("dataset").get(pk=version.pk)
    except DatasetVersion.DoesNotExist:
        raise NotFound(f"version {version.name!r} no longer exists") from None


def _next_number(dataset: Dataset) -> int:
    top = DatasetVersion.objects.filter(dataset=dataset).aggregate(top=Max("number"))["top"]
    return (top or 0) + 1


def _parent_keys(parent_version_names: Any, parent_version_ids: Any) -> tuple[str, list[Any]]:
    """The parents asked for, checked as input (before any lookup): by name or by id, not both."""
    if parent_version_names is not None and parent_version_ids is not None:
        raise InvalidInput(
            "give parent_version_names or parent_version_ids, not both",
            details={"parent_version_ids": ["cannot be combined with parent_version_names"]},
        )
    if parent_version_ids is not None:
        if isinstance(parent_version_ids, str) or not isinstance(parent_version_ids, list | tuple):
            raise InvalidInput.for_field("parent_version_ids", "must be a list")
        field, keys = "parent_version_ids", [parse_uuid("parent_version_ids", pid) for pid in parent_version_ids]
    else:
        field, keys = "parent_version_names", clean_name_list("parent_version_names", parent_version_names)
    if len(keys) > MAX_PARENTS:
        raise InvalidInput.for_field(field, f"at most {MAX_PARENTS} parents")
    if len(set(keys)) != len(keys):
        raise InvalidInput.for_field(field, "a parent is listed twice")
    return field, keys


def _resolve_parents(dataset: Dataset, field: str, keys: list[Any]) -> list[DatasetVersion]:
    if not keys:
        return []
    versions = DatasetVersion.objects.filter(dataset=dataset)
    if field == "parent_version_ids":
        found = {v.pk: v for v in versions.filter(pk__in=keys)}
    else:
        found = {v.name: v for v in versions.filter(name__in=keys)}
    parents = []
    for key in keys:
        if key not in found:
            raise NotFound(f"parent version {str(key)!r} does not exist in dataset {dataset.name!r}")
        parent = found[key]
        if parent.status != VersionStatus.PUBLISHED:
            raise StateConflict(
                f"parent version {parent.name!r} is a Draft; child versions can only be created from "
                "Published versions"
            )
        parents.append(parent)
    return parents


def version_insert(
    dataset: Dataset, *, name: str, parents: list[DatasetVersion], metadata: dict[str, Any],
    comment: str, user=None,
) -> DatasetVersion:
    """Insert a Draft version under already-checked parents. The caller holds the dataset lock."""
    version_id = uuid.uuid4()
    version = DatasetVersion.objects.create(
        id=version_id, dataset=dataset, name=name, number=_next_number(dataset),
        depth=max((p.depth + 1 for p in parents), default=0), ancestors=ancestors_for(version_id, parents),
        metadata=metadata, comment=comment, created_by=_user_or_none(user),
    )
    VersionParent.objects.bulk_create(
        VersionParent(child=version, parent=parent, position=i) for i, parent in enumerate(parents)
    )
    version_frames_inherit(version, parents)
    dataset_touch(dataset)
    return version


def version_create(
    dataset: Dataset,
    *,
    version_name: str,
    parent_version_names: list[str] | None = None,
    parent_version_ids: list[Any] | None = None,
    raise_if_exists: bool = False,
    metadata: dict[str, Any] | None = None,
    comment: str | None = None,
    user=None,
) -> DatasetVersion:
    """Create a Draft version from Published parents (none: an empty root version).

    An existing name returns that version, or with ``raise_if_exists`` the call is refused.
    """
    name = clean_name("version_name", version_name)
    metadata = clean_metadata("metadata", metadata)
    comment = clean_text("comment", comment)
    parent_field, parent_keys = _parent_keys(parent_version_names, parent_version_ids)
    with transaction.atomic():
        locked = dataset_lock(dataset)
        existing = DatasetVersion.objects.filter(dataset=locked, name=name).select_related("dataset").first()
        if existing is not None:
            if raise_if_exists:
                raise AlreadyExists(f"version {name!r} already exists in dataset {locked.name!r}")
            return existing
        parents = _resolve_parents(locked, parent_field, parent_keys)
        return version_insert(locked, name=name, parents=parents, metadata=metadata, comment=comment, user=user)


def version_publish(version: DatasetVersion) -> DatasetVersion:
    """Draft to Published: read-only from now on."""
    with transaction.atomic():
        current = version_lock(version)
        if current.status == VersionStatus.PUBLISHED:
            raise StateConflict(f"version {current.name!r} is already Published")
        current.status = VersionStatus.PUBLISHED
        current.published = timezone.now()
        current.save(update_fields=["status", "published"])
        dataset_touch(current.dataset)
        return current


def version_delete(version: DatasetVersion) -> None:
    """Delete a Draft version. A Draft never has children (children need Published parents)."""
    with transaction.atomic():
        current = version_lock(version)
        version_refuse_if_published(current, "delete it")
        version_rows_delete(current.dataset_id, current.pk)
        VersionParent.objects.filter(child=current).delete()
        current.delete()
        dataset_touch(current.dataset)


def version_update(
    version: DatasetVersion, *, name: str | None = None, comment: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> DatasetVersion:
    """Rename a Draft version, or set its comment or metadata (replacing it)."""
    fields: dict[str, Any] = {}
    if name is not None:
        fields["name"] = clean_name("version_name", name)
    if comment is not None:
        fields["comment"] = clean_text("comment", comment)
    if metadata is not None:
        fields["metadata"] = clean_metadata("metadata", metadata)
    with transaction.atomic():
        current = version_lock(version)
        version_refuse_if_published(current, "change it")
        if "name" in fields and fields["name"] != current.name:
            if DatasetVersion.objects.filter(dataset=current.dataset, name=fields["name"]).exists():
                raise AlreadyExists(
                    f"version {fields['name']!r} already exists in dataset {current.dataset.name!r}"
                )
        for field, value in fields.items():
            setattr(current, field, value)
        if fields:
            current.save(update_fields=list(fields))
            dataset_touch(current.dataset)
        return current


def version_metadata_set(version: DatasetVersion, metadata: dict[str, Any]) -> DatasetVersion:
    if metadata is None:
        raise InvalidInput.for_field("metadata", "must be a JSON object")
    return version_update(version, metadata=metadata)


def version_mask_labels_set(version: DatasetVersion, mapping: Any) -> DatasetVersion:
    """Set a Draft version's mask-value to label mapping, kept in its metadata under ``mask_labels``."""
    stored = mask_labels_from_mapping(mapping)
    with transaction.atomic():
        current = version_lock(version)
        version_refuse_if_published(current, "set its mask labels")
        metadata = dict(current.metadata)
        metadata[MASK_LABELS_KEY] = stored
        return version_update(current, metadata=metadata)
