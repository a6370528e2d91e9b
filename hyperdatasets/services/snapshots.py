"""Snapshots: the simple version structure (one evolving Draft with a line of Published snapshots)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from hyperdatasets.exceptions import AlreadyExists, StateConflict
from hyperdatasets.models import DatasetVersion, VersionParent, VersionStatus
from hyperdatasets.services.datasets import DEFAULT_VERSION_NAME
from hyperdatasets.services.locks import dataset_lock
from hyperdatasets.services.versions import version_insert, version_lock
from hyperdatasets.validation import clean_metadata, clean_name, clean_text


def snapshot_default_name() -> str:
    return "snapshot " + timezone.now().astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _branch_arguments(publish_name, child_name, child_metadata, child_comment) -> tuple:
    """The snapshot name and the child's name (None when not given), metadata and comment, checked."""
    return (clean_name("publish_name", publish_name) if publish_name is not None else None,
            clean_name("child_name", child_name) if child_name is not None else None,
            clean_metadata("child_metadata", child_metadata), clean_text("child_comment", child_comment))


def snapshot_create(
    dataset,
    *,
    publish_name: str | None = None,
    child_name: str | None = None,
    child_metadata: dict[str, Any] | None = None,
    child_comment: str | None = None,
    user=None,
) -> DatasetVersion:
    """Publish the only Draft in place (same id, renamed) and return its new Draft child, now current.

    Allowed only while the dataset has exactly one Draft version and it is the only leaf.
    """
    publish_name, child, child_metadata, child_comment = _branch_arguments(
        publish_name, child_name, child_metadata, child_comment)
    child = child if child is not None else DEFAULT_VERSION_NAME
    with transaction.atomic():
        locked = dataset_lock(dataset)
        versions = DatasetVersion.objects.filter(dataset=locked)
        drafts = list(versions.filter(status=VersionStatus.DRAFT)[:2])
        if len(drafts) != 1:
            raise StateConflict(
                f"dataset {locked.name!r} has {len(drafts) if len(drafts) < 2 else 'several'} Draft versions; "
                "a snapshot needs exactly one Draft version (the simple version structure)"
            )
        current = drafts[0]
        parent_ids = VersionParent.objects.filter(child__dataset=locked).values("parent_id")
        other_leaves = versions.exclude(pk=current.pk).exclude(pk__in=parent_ids)
        if other_leaves.exists():
            names = ", ".join(repr(v.name) for v in other_leaves[:5])
            raise StateConflict(
                f"dataset {locked.name!r} is not in the simple version structure: besides Draft "
                f"{current.name!r} it has other leaf versions ({names}); create child versions instead"
            )
        return _publish_and_branch(locked, current, publish_name or snapshot_default_name(), child,
                                   child_metadata, child_comment, user)


def _publish_and_branch(dataset, current: DatasetVersion, snapshot_name: str, child: str,
                        child_metadata: dict[str, Any], child_comment: str, user) -> DatasetVersion:
    """Publish the locked Draft ``current`` in place, renamed ``snapshot_name``, and insert its Draft child
    ``child``. The caller holds the dataset lock."""
    if current.status != VersionStatus.DRAFT:
        raise StateConflict(f"version {current.name!r} is already Published")
    taken = DatasetVersion.objects.filter(dataset=dataset).exclude(pk=current.pk)
    if taken.filter(name=snapshot_name).exists():
        raise AlreadyExists(f"version {snapshot_name!r} already exists in dataset {dataset.name!r}")
    if child == snapshot_name:
        raise AlreadyExists(f"child_name and the snapshot name are both {child!r}")
    if taken.filter(name=child).exists():
        raise AlreadyExists(f"version {child!r} already exists in dataset {dataset.name!r}")
    current.name = snapshot_name
    current.status = VersionStatus.PUBLISHED
    current.published = timezone.now()
    current.save(update_fields=["name", "status", "published"])
    return version_insert(
        dataset, name=child, parents=[current], metadata=child_metadata, comment=child_comment, user=user
    )


def _numbered_snapshot_name(dataset, name: str) -> str:
    """``snapshot N (name)``: ClearML's name for the N-th snapshot of a version named ``name``."""
    taken = set(DatasetVersion.objects.filter(dataset=dataset, name__startswith="snapshot ")
                .values_list("name", flat=True))
    number = 1
    while f"snapshot {number} ({name})" in taken:
        number += 1
    return f"snapshot {number} ({name})"


def version_publish_and_branch(
    version: DatasetVersion,
    *,
    publish_name: str | None = None,
    child_name: str | None = None,
    child_metadata: dict[str, Any] | None = None,
    child_comment: str | None = None,
    user=None,
) -> DatasetVersion:
    """ClearML's ``publish_and_create_child_version`` for any Draft version, in any version structure:
    publish it in place (same id), renamed ``publish_name`` (default ``snapshot N (<its name>)``), and return
    its new Draft child, named ``child_name`` (default: the version's former name)."""
    publish_name, child, child_metadata, child_comment = _branch_arguments(
        publish_name, child_name, child_metadata, child_comment)
    with transaction.atomic():
        current = version_lock(version)
        locked = current.dataset
        return _publish_and_branch(locked, current, publish_name or _numbered_snapshot_name(locked, current.name),
                                   child if child is not None else current.name, child_metadata, child_comment,
                                   user)
