"""Writes of datasets: create, update, move, delete."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from hyperdatasets.exceptions import AlreadyExists, StateConflict
from hyperdatasets.models import Dataset, DatasetVersion, DeletionJob, Project, VersionParent, VersionStatus
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.deletion import deletion_job_create, deletion_job_enqueue
from hyperdatasets.services.locks import dataset_lock
from hyperdatasets.services.projects import _user_or_none, project_create
from hyperdatasets.services.tags import dataset_tags_add
from hyperdatasets.services.versions import version_insert
from hyperdatasets.validation import clean_metadata, clean_name, clean_tags, clean_text

DEFAULT_VERSION_NAME = "Current"


def _find(name: str, project: Project | None) -> Dataset | None:
    return Dataset.objects.filter(name=name, project=project).select_related("project").first()


def dataset_create(
    *,
    dataset_name: str,
    dataset_project: str | None = None,
    tags: list[str] | None = None,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
    raise_if_exists: bool = False,
    is_example: bool = False,
    initial_version: bool = True,
    user=None,
) -> Dataset:
    """Create a dataset with one empty Draft version named ``Current`` (none with ``initial_version=False``:
    ClearML's ``datasets.create``, whose client creates the first version itself).

    If the name exists in that project, the existing dataset is returned with the given tags added,
    or, with ``raise_if_exists``, the call is refused.
    """
    name = clean_name("dataset_name", dataset_name)
    tag_list = clean_tags(tags)
    description = clean_text("description", description)
    metadata = clean_metadata("metadata", metadata)
    project_name = clean_name("dataset_project", dataset_project) if dataset_project is not None else None

    with transaction.atomic():
        project = project_create(name=project_name, user=user) if project_name is not None else None
        existing = _find(name, project)
        if existing is None:
            try:
                with transaction.atomic():
                    dataset = Dataset.objects.create(
                        name=name, project=project, description=description, metadata=metadata,
                        is_example=is_example, created_by=_user_or_none(user),
                    )
                    if initial_version:
                        version_insert(dataset, name=DEFAULT_VERSION_NAME, parents=[], metadata={}, comment="",
                                       user=user)
                    dataset_tags_add(dataset, tag_list)
                    return dataset
            except IntegrityError:
                existing = _find(name, project)
                if existing is None:
                    raise
        where = f" in project {project.name!r}" if project else ""
        if raise_if_exists:
            raise AlreadyExists(f"dataset {name!r} already exists{where}")
        dataset_tags_add(existing, tag_list)
        return existing


def version_create_new_dataset(**kwargs: Any) -> DatasetVersion:
    """The create-new-dataset variant: the same rules as ``dataset_create``, returning the current version."""
    dataset = dataset_create(**kwargs)
    head = version_head(dataset)
    if head is None:
        raise StateConflict(f"dataset {dataset.name!r} exists and has no versions")
    return head


def dataset_update(
    dataset: Dataset,
    *,
    name: str | None = None,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
    project: Project | None = None,
    move_project: bool = False,
) -> Dataset:
    """Rename, describe, set metadata or move to another project (``move_project=True``, None = no project)."""
    fields: dict[str, Any] = {}
    if name is not None:
        fields["name"] = clean_name("name", name)
    if description is not None:
        fields["description"] = clean_text("description", description)
    if metadata is not None:
        fields["metadata"] = clean_metadata("metadata", metadata)
    if move_project:
        fields["project"] = project
    with transaction.atomic():
        locked = dataset_lock(dataset)
        target_project = fields.get("project", locked.project)
        target_name = fields.get("name", locked.name)
        clash = Dataset.objects.filter(project=target_project, name=target_name).exclude(pk=locked.pk)
        if clash.exists():
            where = f" in project {target_project.name!r}" if target_project else " outside projects"
            raise AlreadyExists(f"dataset {target_name!r} already exists{where}")
        for field, value in fields.items():
            setattr(locked, field, value)
        locked.save()
        return locked


def dataset_delete(
    dataset: Dataset, *, delete_all_versions: bool = False, force: bool = False, delete_sources: bool = False,
    user=None,
) -> DeletionJob | None:
    """Delete a dataset.

    ``delete_all_versions=False``: only a dataset with no versions. ``delete_all_versions=True, force=False``:
    only when every version is Draft. ``force=True`` also deletes Published versions. ``delete_sources`` is
    ignored unless ``delete_all_versions``; with it, the URIs of every object the frames point to are
    recorded in a deletion job's ledger in this transaction, and the job (returned) is queued for a worker.
    """
    with transaction.atomic():
        locked = dataset_lock(dataset)
        versions = DatasetVersion.objects.filter(dataset=locked)
        count = versions.count()
        if not delete_all_versions and count:
            raise StateConflict(
                f"dataset {locked.name!r} has {count} version(s); pass delete_all_versions=True to delete them"
            )
        published = versions.filter(status=VersionStatus.PUBLISHED).count()
        if published and not force:
            raise StateConflict(
                f"dataset {locked.name!r} has {published} Published version(s); pass force=True to delete them"
            )
        job = deletion_job_create(locked, user) if delete_sources and delete_all_versions else None
        VersionParent.objects.filter(child__dataset=locked).delete()
        versions.delete()
        locked.delete()
        if job is not None:
            deletion_job_enqueue(job)
        return job
