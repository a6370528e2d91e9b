"""``datasets.*`` writes, each on this project's services under the caller's project rights (the REST API's
lookups: ``hyperdatasets.api.views.common``).

Statuses: ClearML's ``draft -> committed -> published``. Here every write is committed when it returns, so
``commit_version`` changes nothing but, with ``publish``, publishes; a Draft is reported ``draft`` before and
after it. A Published version is read-only, as the services enforce.
"""

from __future__ import annotations

from typing import Any

from clearml_api.endpoints import Call, endpoint
from clearml_api.envelope import INVALID_FIELD, ApiError
from clearml_api.frames import frame_in
from clearml_api.handlers import project_name_of
from clearml_api.ids import parse_id, wire_id
from hyperdatasets.access import require_create_in_project
from hyperdatasets.api.views.common import dataset_for, version_for
from hyperdatasets.exceptions import NotFound
from hyperdatasets.models import DatasetVersion, VersionParent
from hyperdatasets.selectors.frames import version_label_stats
from hyperdatasets.services.datasets import dataset_create, dataset_delete, dataset_update
from hyperdatasets.services.frames import frames_delete, frames_upsert
from hyperdatasets.services.snapshots import version_publish_and_branch
from hyperdatasets.services.tags import dataset_tags_set
from hyperdatasets.services.versions import version_create, version_delete, version_publish, version_update


def _version_ids(call: Call, name: str) -> list:
    raw = call.get(name)
    if raw is None:
        return []
    return [parse_id(name, value) for value in (raw if isinstance(raw, list) else [raw])]


@endpoint("datasets.create")
def datasets_create(call: Call) -> dict[str, Any]:
    if call.get("field_mappings"):
        raise ApiError(400, "field_mappings: dense_vector fields (kNN vector search) are not served by this server",
                       INVALID_FIELD)
    project_name = project_name_of(call)
    require_create_in_project(call.user, project_name)
    dataset = dataset_create(dataset_name=call.required("name"), dataset_project=project_name,
                             description=call.text("comment"), tags=call.strings("tags"),
                             metadata=call.object("metadata"), raise_if_exists=True, initial_version=False,
                             user=call.user)
    return {"id": wire_id(dataset.pk)}


@endpoint("datasets.update")
def datasets_update(call: Call) -> dict[str, Any]:
    dataset = dataset_for(call, parse_id("dataset", call.required("dataset")), "dataset.change")
    fields: dict[str, Any] = {}
    changes = {"name": call.text("name"), "description": call.text("comment"),
               "metadata": call.object("metadata")}
    dataset_update(dataset, **{key: value for key, value in changes.items() if value is not None})
    for wire, key in (("name", "name"), ("comment", "description"), ("metadata", "metadata")):
        if changes[key] is not None:
            fields[wire] = changes[key]
    tags = call.strings("tags")
    if tags is not None:
        fields["tags"] = dataset_tags_set(dataset, tags)
    return {"updated": 1, "fields": fields}


@endpoint("datasets.delete")
def datasets_delete(call: Call) -> dict[str, Any]:
    dataset = dataset_for(call, parse_id("dataset", call.required("dataset")), "dataset.delete")
    versions = [wire_id(pk) for pk in DatasetVersion.objects.filter(dataset=dataset).values_list("pk", flat=True)]
    dataset_delete(dataset, delete_all_versions=call.boolean("delete_all_versions"), force=call.boolean("force"),
                   user=call.user)
    return {"deleted": True, "deleted_versions": versions}


@endpoint("datasets.create_version")
def datasets_create_version(call: Call) -> dict[str, Any]:
    dataset = dataset_for(call, parse_id("dataset", call.required("dataset")), "version.create")
    parents = _version_ids(call, "parent")
    version = version_create(dataset, version_name=call.required("name"), parent_version_ids=parents or None,
                             raise_if_exists=True, comment=call.text("comment"), metadata=call.object("metadata"),
                             user=call.user)
    return {"id": wire_id(version.pk)}


@endpoint("datasets.update_version")
def datasets_update_version(call: Call) -> dict[str, Any]:
    version = version_for(call, parse_id("version", call.required("version")), "version.change")
    changes = {"name": call.text("name"), "comment": call.text("comment"), "metadata": call.object("metadata")}
    version_update(version, **changes)
    return {"updated": 1, "fields": {key: value for key, value in changes.items() if value is not None}}


@endpoint("datasets.delete_version")
def datasets_delete_version(call: Call) -> dict[str, Any]:
    version = version_for(call, parse_id("version", call.required("version")), "version.delete")
    version_delete(version)
    return {"deleted": True}


@endpoint("datasets.publish_version")
def datasets_publish_version(call: Call) -> dict[str, Any]:
    version = version_for(call, parse_id("version", call.required("version")), "version.publish")
    version_publish(version)
    return {"published": 1}


def _parent_id(version: DatasetVersion) -> str | None:
    parent = VersionParent.objects.filter(child=version).order_by("position").values_list("parent_id", flat=True)
    return wire_id(parent.first())


@endpoint("datasets.commit_version")
def datasets_commit_version(call: Call) -> dict[str, Any]:
    """Writes are committed here as they return: committing counts the version's frames and, with
    ``publish``, publishes it."""
    version = version_for(call, parse_id("version", call.required("version")),
                          "version.publish" if call.boolean("publish") else "version.view")
    if call.boolean("publish"):
        version = version_publish(version)
    total = version_label_stats(version)["frames"]
    return {"version": wire_id(version.pk), "dataset": wire_id(version.dataset_id), "parent": _parent_id(version),
            "total": total, "saved_and_updated": 0, "merged": 0, "deleted": 0, "failed": 0, "errors": []}


@endpoint("datasets.publish_and_create_child_version")
def datasets_publish_and_create_child_version(call: Call) -> dict[str, Any]:
    dataset = dataset_for(call, parse_id("dataset", call.required("dataset")), "version.snapshot")
    version_id = parse_id("version", call.required("version"))
    version = DatasetVersion.objects.select_related("dataset").filter(dataset=dataset, pk=version_id).first()
    if version is None:
        raise NotFound(f"version {call.body['version']} does not exist in dataset {dataset.name!r}")
    child = version_publish_and_branch(version, publish_name=call.text("publish_name"),
                                       child_name=call.text("child_name"),
                                       child_metadata=call.object("child_metadata"),
                                       child_comment=call.text("child_comment"), user=call.user)
    return {"id": wire_id(child.pk)}


@endpoint("datasets.save_frames")
def datasets_save_frames(call: Call) -> dict[str, Any]:
    version = version_for(call, parse_id("version", call.required("version")), "frames.change")
    frames = call.required("frames")
    if not isinstance(frames, list):
        raise ApiError(400, "frames: must be a list of frames", INVALID_FIELD)
    result = frames_upsert(version, [frame_in(frame) for frame in frames])
    version_id = wire_id(version.pk)
    errors = [{"_id": f"{version_id}/{failure.id or ''}", "position": failure.index,
               "error": f"{failure.field}: {failure.reason}" if failure.field else failure.reason}
              for failure in result.failures]
    saved = set(result.saved)
    total_rois = sum(len(frame.get("rois") or []) for frame in frames
                     if isinstance(frame, dict) and frame.get("id") in saved)
    return {"saved": len(result.saved), "failed": len(result.failures), "errors": errors, "ids": result.saved,
            "total_rois": total_rois}


@endpoint("datasets.delete_frames")
def datasets_delete_frames(call: Call) -> dict[str, Any]:
    version = version_for(call, parse_id("version", call.required("version")), "frames.change")
    ids = call.strings("frames")
    if ids is None:
        raise ApiError(400, "frames: is required (a list of frame ids)", 111)
    result = frames_delete(version, ids)
    return {"deleted": len(result.deleted)}
