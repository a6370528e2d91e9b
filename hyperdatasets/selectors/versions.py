"""Reads of the version graph."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from hyperdatasets.exceptions import NotFound
from hyperdatasets.models import Dataset, DatasetVersion, VersionParent, VersionStatus
from hyperdatasets.selectors.datasets import parse_uuid


def head_key(version: DatasetVersion) -> tuple[bool, int, int]:
    """The current version is the greatest by this key: the Draft with the longest path to a root (newest
    on ties); with no Draft, the newest Published version. (``datasets_with_summary`` orders by the same
    key in SQL, for lists.)"""
    draft = version.status == VersionStatus.DRAFT
    return draft, version.depth if draft else 0, version.number


def version_head(dataset: Dataset) -> DatasetVersion | None:
    """The current version (``head_key``), in one query."""
    return max(DatasetVersion.objects.filter(dataset=dataset), key=head_key, default=None)


def version_list(
    dataset: Dataset, *, only_published: bool = False, only_draft: bool = False
) -> QuerySet[DatasetVersion]:
    """The versions in number order; each filter given is a condition (both together match none)."""
    versions = DatasetVersion.objects.filter(dataset=dataset)
    if only_published:
        versions = versions.filter(status=VersionStatus.PUBLISHED)
    if only_draft:
        versions = versions.filter(status=VersionStatus.DRAFT)
    return versions.order_by("number")


@dataclass(frozen=True)
class VersionLookup:
    version: DatasetVersion
    warning: str | None = None


def version_get(dataset: Dataset, *, version_name: str | None = None, version_id: object = None) -> VersionLookup:
    """One version by name or id; with neither, the current version and a warning when there are several."""
    versions = DatasetVersion.objects.filter(dataset=dataset).select_related("dataset")
    if version_id is not None:  # with a name too, the version with that id must carry it
        conditions = {"pk": parse_uuid("version_id", version_id)}
        if version_name is not None:
            conditions["name"] = version_name
        try:
            return VersionLookup(versions.get(**conditions))
        except DatasetVersion.DoesNotExist:
            named = f" named {version_name!r}" if version_name is not None else ""
            raise NotFound(f"version {version_id}{named} does not exist in dataset {dataset.name!r}") from None
    if version_name is not None:
        try:
            return VersionLookup(versions.get(name=version_name))
        except DatasetVersion.DoesNotExist:
            raise NotFound(f"version {version_name!r} does not exist in dataset {dataset.name!r}") from None
    head = version_head(dataset)
    if head is None:
        raise NotFound(f"dataset {dataset.name!r} has no versions")
    count = versions.count()
    warning = None
    if count > 1:
        warning = (
            f"dataset {dataset.name!r} has {count} versions; returning the current version {head.name!r}. "
            "Pass version_name or version_id to choose one."
        )
    return VersionLookup(head, warning)


def version_parents(version: DatasetVersion) -> list[DatasetVersion]:
    links = VersionParent.objects.filter(child=version).select_related("parent").order_by("position")
    return [link.parent for link in links]


def version_parent_ids(versions: list[DatasetVersion]) -> dict[object, list[object]]:
    """Parent ids of many versions in one query, in precedence order."""
    parents: dict[object, list[object]] = {v.pk: [] for v in versions}
    links = VersionParent.objects.filter(child__in=versions).order_by("child", "position")
    for child_id, parent_id in links.values_list("child_id", "parent_id"):
        parents[child_id].append(parent_id)
    return parents

