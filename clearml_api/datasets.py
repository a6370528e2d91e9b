"""``datasets.*`` reads: datasets and their versions as ClearML's client reads them, under the caller's rights.

Status: a Draft version is ``draft`` (ClearML's ``committed`` is a Draft whose frames were committed; writes
commit at once here), a Published one ``published``. ``head_version`` is this project's current version
(the Draft with the longest path to a root, else the newest Published one): ClearML's own rule.
"""

from __future__ import annotations

from typing import Any

from clearml_api.endpoints import Call, endpoint
from clearml_api.envelope import INVALID_ID, ApiError
from clearml_api.handlers import MAX_PAGE_SIZE, _iso, _page
from clearml_api.ids import parse_id, wire_id
from clearml_api.names import filter_by_name
from hyperdatasets.access import visible_datasets, visible_projects
from hyperdatasets.models import Dataset, DatasetVersion, VersionStatus
from hyperdatasets.selectors.datasets import dataset_for_output
from hyperdatasets.selectors.frames import version_label_stats
from hyperdatasets.selectors.versions import head_key, version_parent_ids

STATUS = {VersionStatus.DRAFT: "draft", VersionStatus.PUBLISHED: "published"}


def _counted(pairs: dict[str, int]) -> list[dict[str, Any]]:
    return [{"name": name, "count": count} for name, count in pairs.items()]


def version_out(version: DatasetVersion, parents: dict | None = None) -> dict[str, Any]:
    stats = version_label_stats(version)
    parent_ids = (parents or {}).get(version.pk) or []
    return {
        "id": wire_id(version.pk), "name": version.name, "dataset": wire_id(version.dataset_id),
        "parent": wire_id(parent_ids[0]) if parent_ids else None, "comment": version.comment,
        "status": STATUS[version.status], "task": None, "tags": list(version.tags or []), "system_tags": [],
        "metadata": version.metadata or {}, "created": _iso(version.created), "last_update": _iso(version.created),
        "published": _iso(version.published), "committed": None, "company": "",
        "user": str(version.created_by_id or ""),
        "stats": {"labels": _counted(stats["labels"]), "content_types": _counted(stats["content_types"]),
                  "frames": [{"name": "total", "count": stats["frames"]},
                             {"name": "annotated", "count": stats["annotated"]}]},
    }


def dataset_out(dataset: Dataset, versions: list[DatasetVersion], resolve_head: bool) -> dict[str, Any]:
    out = {
        "id": wire_id(dataset.pk), "name": dataset.name, "comment": dataset.description,
        "project": wire_id(dataset.project_id) if dataset.project_id else None,
        "tags": [t.name for t in dataset.tags.all()], "system_tags": [], "metadata": dataset.metadata or {},
        "terms_of_use": None, "created": _iso(dataset.created), "last_update": _iso(dataset.updated),
        "company": "", "user": str(dataset.created_by_id or ""), "field_mappings": {},
        "version_count": len(versions), "paradigm": "single_version" if len(versions) <= 1 else "general",
    }
    if resolve_head:
        head = max(versions, key=head_key, default=None)
        out["head_version"] = version_out(head, version_parent_ids([head])) if head is not None else None
    return out


def _only(out: dict[str, Any], only: list[str] | None) -> dict[str, Any]:
    if not only:
        return out
    tops = {field.split(".", 1)[0] for field in only}
    return {key: value for key, value in out.items() if key in tops or key == "id"}


def _versions_of(datasets: list[Dataset]) -> dict:
    by_dataset: dict = {d.pk: [] for d in datasets}
    for version in DatasetVersion.objects.filter(dataset__in=[d.pk for d in datasets]).order_by("number"):
        by_dataset[version.dataset_id].append(version)
    return by_dataset


def _dataset_or_error(call: Call, field: str = "dataset") -> Dataset:
    raw = call.required(field)
    dataset = dataset_for_output(visible_datasets(call.user)).filter(pk=parse_id(field, raw)).first()
    if dataset is None:
        raise ApiError(400, f"Invalid dataset id: id={raw}", INVALID_ID)
    return dataset


@endpoint("datasets.get_all")
def datasets_get_all(call: Call) -> dict[str, Any]:
    datasets = dataset_for_output(visible_datasets(call.user)).order_by("name", "id")
    ids = call.strings("id")
    if ids is not None:
        datasets = datasets.filter(pk__in=[parse_id("id", i) for i in ids])
    projects = call.strings("project")
    if projects is not None:
        wanted = [parse_id("project", p) for p in projects]
        datasets = datasets.filter(project__in=visible_projects(call.user).filter(pk__in=wanted))
    for tag in call.strings("tags") or []:
        if tag.startswith("-"):
            datasets = datasets.exclude(tags__name=tag[1:])
        else:
            datasets = datasets.filter(tags__name=tag)
    datasets = filter_by_name(datasets, call.get("name"))
    size = call.integer("size", None, 1, MAX_PAGE_SIZE)
    rows = _page(call, datasets)
    if size is not None:
        rows = rows[:size]
    versions = _versions_of(rows)
    resolve_head = call.boolean("resolve_head")
    only = call.strings("only_fields")
    return {"datasets": [_only(dataset_out(d, versions[d.pk], resolve_head), only) for d in rows]}


@endpoint("datasets.get_by_id")
def datasets_get_by_id(call: Call) -> dict[str, Any]:
    dataset = _dataset_or_error(call)
    return {"dataset": dataset_out(dataset, _versions_of([dataset])[dataset.pk], True)}


@endpoint("datasets.get_versions")
def datasets_get_versions(call: Call) -> dict[str, Any]:
    dataset = _dataset_or_error(call)
    versions = DatasetVersion.objects.filter(dataset=dataset).order_by("number")
    if call.boolean("only_published", True):  # ClearML's default
        versions = versions.filter(status=VersionStatus.PUBLISHED)
    ids = call.strings("versions")
    if ids is not None:
        versions = versions.filter(pk__in=[parse_id("versions", v) for v in ids])
    rows = _page(call, versions)
    parents = version_parent_ids(rows)
    only = call.strings("only_fields")
    return {"versions": [_only(version_out(v, parents), only) for v in rows]}
