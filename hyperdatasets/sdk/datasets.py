"""Dataset and DatasetVersion: the calls of the product page, over the REST API."""

from __future__ import annotations

import contextlib
import tempfile
import uuid
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

from hyperdatasets.sdk.client import InvalidRequestError, ServerError, _Client
from hyperdatasets.sdk.frames import FrameGroup, SingleFrame, frame_from_api, frame_to_api
from hyperdatasets.sdk.jobs import AnnotationJob, DeletionJob
from hyperdatasets.upload_paths import safe_upload_path

MAX_BATCH_BYTES = 8 * 1024 * 1024  # half the server's default HYPERDATASETS_FRAMES_MAX_BYTES
LOOKUP_BATCH = 10_000  # the ids the server looks up in one call (selectors.frames.MAX_LOOKUP_IDS)


def _client() -> _Client:
    return _Client.get()


def _progress(show: bool, total: int | None, desc: str):
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="frame" if "frame" in desc else "step")


def _reference(dataset_id=None, dataset_name=None, dataset_project=None) -> dict:
    """How a one-round-trip call names its dataset (the server applies the rules for names)."""
    if dataset_id is not None and dataset_name is not None:
        raise ValueError("give dataset_id or dataset_name, not both")
    if dataset_id is None and dataset_name is None:
        raise ValueError("give dataset_name or dataset_id")
    reference = {"dataset_id": str(dataset_id)} if dataset_id is not None else {"dataset_name": dataset_name}
    if dataset_project is not None:
        reference["dataset_project"] = dataset_project
    return reference


def _dataset_json(dataset_id=None, dataset_name=None, dataset_project=None) -> dict:
    if dataset_id is not None and dataset_name is not None:
        raise ValueError("give dataset_id or dataset_name, not both")
    if dataset_id is not None:
        return _client().get_json(f"/api/datasets/{quote(str(dataset_id))}/")
    if dataset_name is None:
        raise ValueError("give dataset_name or dataset_id")
    return _client().get_json("/api/datasets/lookup/", dataset_name=dataset_name, dataset_project=dataset_project)


class Dataset:
    """A dataset: a named graph of versions, optionally in a project."""

    def __init__(self, data: dict) -> None:
        self._data = data

    def __repr__(self) -> str:
        return f"<Dataset {self.name!r} id={self.id}>"

    id = property(lambda self: self._data["id"])
    name = property(lambda self: self._data["name"])
    description = property(lambda self: self._data["description"])
    tags = property(lambda self: list(self._data["tags"]))
    metadata = property(lambda self: dict(self._data["metadata"]))
    is_example = property(lambda self: self._data["is_example"])

    @property
    def project(self) -> str | None:
        return self._data["project"]["name"] if self._data["project"] else None

    @classmethod
    def create(cls, dataset_name: str, comment: str | None = None, tags: list[str] | None = None,
               raise_if_exists: bool = False, dataset_project: str | None = None,
               description: str | None = None) -> Dataset:
        """Create a dataset with an empty Draft version ``Current``; an existing one gets the tags added,
        or ``raise_if_exists`` raises ValueError."""
        body = {"dataset_name": dataset_name, "dataset_project": dataset_project, "tags": tags or [],
                "description": description if description is not None else comment,
                "raise_if_exists": raise_if_exists}
        return cls(_client().send_json("POST", "/api/datasets/", {k: v for k, v in body.items() if v is not None}))

    @classmethod
    def get(cls, dataset_id: str | None = None, dataset_name: str | None = None,
            dataset_project: str | None = None) -> Dataset:
        return cls(_dataset_json(dataset_id, dataset_name, dataset_project))

    @classmethod
    def list(cls, dataset_project: str | None = None, tags: list[str] | None = None,
             partial_name: str | None = None) -> list[Dataset]:
        params: dict[str, Any] = {"name": partial_name}
        if dataset_project is not None:
            projects = [p for p in _client().pages("/api/projects/") if p["name"] == dataset_project]
            if not projects:
                return []
            params["project"] = projects[0]["id"]
        if tags:
            params["tag"] = list(tags)  # the server keeps the datasets holding every one
        return [cls(d) for d in _client().pages("/api/datasets/", **params)]

    @classmethod
    def delete(cls, dataset_id: str | None = None, dataset_name: str | None = None,
               delete_all_versions: bool = False, force: bool = False, delete_sources: bool = False,
               show_progress: bool = False, dataset_project: str | None = None, wait: bool | None = None
               ) -> DeletionJob | None:
        """Delete a dataset: with no versions; with ``delete_all_versions`` if all are Draft; with ``force``
        also Published ones. ``delete_sources`` is ignored unless ``delete_all_versions``.

        The dataset disappears at once. With ``delete_sources``, a server job deletes the S3, GCS and Azure
        objects its frames point to (never local files or https URLs, nor objects other frames still use) and
        is returned; it is waited for when ``wait`` is true or, by default, when ``show_progress`` is (a tqdm
        bar of objects done)."""
        dataset = _dataset_json(dataset_id, dataset_name, dataset_project)
        params = {"delete_all_versions": str(bool(delete_all_versions)).lower(), "force": str(bool(force)).lower(),
                  "delete_sources": str(bool(delete_sources and delete_all_versions)).lower()}
        result = _client().request("DELETE", f"/api/datasets/{dataset['id']}/", params=params).json()
        if result.get("job") is None:
            return None
        job = DeletionJob(result["job"])
        if wait or (wait is None and show_progress):
            job.wait(show_progress=show_progress)
        return job

    def add_tags(self, tags: list[str]) -> list[str]:
        self._data = _client().send_json("POST", f"/api/datasets/{self.id}/tags/add/", {"tags": list(tags)})
        return self.tags

    def remove_tags(self, tags: list[str]) -> list[str]:
        self._data = _client().send_json("POST", f"/api/datasets/{self.id}/tags/remove/", {"tags": list(tags)})
        return self.tags

    def delete_version(self, version_name: str | None = None, version_id: str | None = None) -> None:
        """Delete a Draft version (a Published one raises ValueError)."""
        version = DatasetVersion.get_version(dataset_id=self.id, version_name=version_name, version_id=version_id)
        _client().request("DELETE", f"/api/versions/{version.id}/")

    def create_version(self, version_name: str, parent_version_names: list[str] | None = None,
                       parent_version_ids: list[str] | None = None, raise_if_exists: bool = False) -> DatasetVersion:
        return DatasetVersion.create_version(dataset_id=self.id, version_name=version_name,
                                             parent_version_names=parent_version_names,
                                             parent_version_ids=parent_version_ids, raise_if_exists=raise_if_exists)

    def get_versions(self, only_published: bool = False, only_draft: bool = False) -> list[DatasetVersion]:
        return DatasetVersion.get_versions(dataset_id=self.id, only_published=only_published, only_draft=only_draft)

    def get_current(self) -> DatasetVersion:
        return DatasetVersion.get_current(dataset_id=self.id)

    def get_schema(self) -> dict:
        """The frame fields a query can name with their types, and the meta keys the frames have."""
        return _client().get_json(f"/api/datasets/{self.id}/schema/")


SELECTION_KEYWORDS = ("sources_query", "label_rules", "filter_by_roi", "filters")


def _selection_params(query: str | None, filters: dict[str, Any]) -> dict[str, Any]:
    """The query parameters of a frame selection; label rules and filters travel as JSON."""
    unknown = sorted(set(filters) - set(SELECTION_KEYWORDS))
    if unknown:
        raise TypeError(f"unexpected keyword arguments {unknown}; frame filters are {list(SELECTION_KEYWORDS)}")
    params: dict[str, Any] = {"query": query}
    for key, value in filters.items():
        params[key] = orjson.dumps(value).decode() if key in ("label_rules", "filters") and value is not None \
            else value
    return params


class _Hybrid:
    """A method callable on the class (naming the dataset and version) or on an instance."""

    def __init__(self, func) -> None:
        self.func = func

    def __get__(self, instance, owner):
        def bound(*args, **kwargs):
            return self.func(owner, instance, *args, **kwargs)
        bound.__doc__ = self.func.__doc__
        return bound


def _frame_segment(frame_id: str) -> str:
    """A frame id as one URL path segment: every ``/`` encoded, and ``.`` and ``..`` too (clients resolve those)."""
    segment = quote(frame_id, safe="")
    return segment.replace(".", "%2E") if segment in (".", "..") else segment


def _document_id(encoded: bytes) -> str | None:
    frame_id = orjson.loads(encoded).get("id")
    return frame_id if isinstance(frame_id, str) else None


def _encoded_frames(documents: list[dict]) -> list[bytes]:
    encoded = []
    for index, document in enumerate(documents):
        try:
            encoded.append(orjson.dumps(document))
        except TypeError as exc:
            raise ValueError(f"frame {index} cannot be sent as JSON: {exc}") from None
    return encoded


class DatasetVersion:
    """A version of a dataset: Draft (editable) or Published (read-only)."""

    def __init__(self, data: dict, dataset: dict | None = None) -> None:
        self._data = data
        self._dataset = dataset
        self.last_failures: list[dict] = []
        self.last_export_report: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"<DatasetVersion {self.name!r} ({self.status}) id={self.id}>"

    id = property(lambda self: self._data["id"])
    version_id = property(lambda self: self._data["id"])
    name = property(lambda self: self._data["name"])
    version_name = property(lambda self: self._data["name"])
    status = property(lambda self: self._data["status"])
    parents = property(lambda self: list(self._data["parent_ids"]))
    comment = property(lambda self: self._data["comment"])
    tags = property(lambda self: list(self._data.get("tags", [])))
    dataset_id = property(lambda self: self._data["dataset_id"])
    is_published = property(lambda self: self._data["status"] == "published")
    is_draft = property(lambda self: self._data["status"] == "draft")

    @property
    def dataset(self) -> Dataset:
        return Dataset.get(dataset_id=self.dataset_id)

    # --- creating and finding -----------------------------------------------------------------------------

    @staticmethod
    def get_datasets(dataset_project: str | None = None, tags: list[str] | None = None,
                     partial_name: str | None = None) -> list[Dataset]:
        """The datasets you can see (as ``Dataset.list``): of a project, holding every one of ``tags``."""
        return Dataset.list(dataset_project=dataset_project, tags=tags, partial_name=partial_name)

    @classmethod
    def create_new_dataset(cls, dataset_name: str, dataset_project: str | None = None, tags: list[str] | None = None,
                           description: str | None = None, raise_if_exists: bool = False) -> DatasetVersion:
        body = {"dataset_name": dataset_name, "dataset_project": dataset_project, "tags": tags or [],
                "description": description, "raise_if_exists": raise_if_exists}
        return cls(_client().send_json("POST", "/api/datasets/create-new-dataset/",
                                       {k: v for k, v in body.items() if v is not None}))

    @classmethod
    def get_current(cls, dataset_name: str | None = None, dataset_id: str | None = None,
                    dataset_project: str | None = None) -> DatasetVersion:
        reference = _reference(dataset_id, dataset_name, dataset_project)
        if "dataset_id" in reference:
            found = _client().get_json(f"/api/datasets/{quote(reference['dataset_id'], safe='')}/current/")
        else:
            found = _client().get_json("/api/datasets/lookup/head/", **reference)
        return cls(found["version"], found["dataset"])

    @classmethod
    def get_version(cls, dataset_name: str | None = None, dataset_id: str | None = None,
                    version_name: str | None = None, version_id: str | None = None,
                    dataset_project: str | None = None) -> DatasetVersion:
        """One version; with no version name or id, the current one (with a UserWarning when the dataset
        has more than one version)."""
        dataset = _dataset_json(dataset_id, dataset_name, dataset_project)
        found = _client().get_json(f"/api/datasets/{dataset['id']}/versions/lookup/", version_name=version_name,
                                   version_id=version_id)
        if found["warning"]:
            warnings.warn(found["warning"], UserWarning, stacklevel=2)
        return cls(found["version"], dataset)

    @classmethod
    def get_versions(cls, dataset_name: str | None = None, dataset_id: str | None = None,
                     only_published: bool = False, only_draft: bool = False,
                     dataset_project: str | None = None) -> list[DatasetVersion]:
        dataset = _dataset_json(dataset_id, dataset_name, dataset_project)
        params = {"only_published": "true" if only_published else None, "only_draft": "true" if only_draft else None}
        return [cls(v, dataset) for v in _client().pages(f"/api/datasets/{dataset['id']}/versions/", **params)]

    @classmethod
    def create_snapshot(cls, dataset_name: str | None = None, dataset_id: str | None = None,
                        publish_name: str | None = None, child_name: str | None = None,
                        child_metadata: dict | None = None, child_comment: str | None = None,
                        dataset_project: str | None = None) -> DatasetVersion:
        """Publish the only Draft in place (renamed) and return its new Draft child, now current."""
        body = {"publish_name": publish_name, "child_name": child_name, "child_metadata": child_metadata,
                "child_comment": child_comment, **_reference(dataset_id, dataset_name, dataset_project)}
        made = _client().send_json("POST", "/api/datasets/lookup/snapshot/",
                                   {k: v for k, v in body.items() if v is not None})
        return cls(made["version"], made["dataset"])

    @classmethod
    def create_version(cls, dataset_name: str | None = None, dataset_id: str | None = None,
                       version_name: str | None = None, parent_version_names: list[str] | None = None,
                       parent_version_ids: list[str] | None = None, raise_if_exists: bool = False,
                       dataset_project: str | None = None, metadata: dict | None = None,
                       comment: str | None = None) -> DatasetVersion:
        """A Draft child of Published parents, or an empty root version without parents. An existing name
        returns that version (ValueError with ``raise_if_exists``)."""
        if not version_name:
            raise ValueError("version_name is required")
        dataset = _dataset_json(dataset_id, dataset_name, dataset_project)
        body = {"version_name": version_name, "parent_version_names": parent_version_names,
                "parent_version_ids": parent_version_ids, "raise_if_exists": raise_if_exists,
                "metadata": metadata, "comment": comment}
        return cls(_client().send_json("POST", f"/api/datasets/{dataset['id']}/versions/",
                                       {k: v for k, v in body.items() if v is not None}), dataset)

    # --- state and metadata -------------------------------------------------------------------------------

    def publish_version(self) -> DatasetVersion:
        self._data = _client().send_json("POST", f"/api/versions/{self.id}/publish/")
        return self

    def set_version_name(self, name: str) -> None:
        self._data = _client().send_json("PATCH", f"/api/versions/{self.id}/", {"name": name})

    def get_metadata(self) -> dict:
        return _client().get_json(f"/api/versions/{self.id}/metadata/")["metadata"]

    def set_metadata(self, metadata: dict) -> None:
        _client().send_json("PUT", f"/api/versions/{self.id}/metadata/", {"metadata": metadata})

    def set_masks_labels(self, masks_labels: dict[tuple[int, int, int], list[str]]) -> None:
        """Map mask values ``(r, g, b)`` to labels for every mask of this version."""
        if not isinstance(masks_labels, dict):
            raise ValueError("masks_labels must be a dict of (r, g, b) tuples to lists of labels")
        entries = [{"value": list(value) if isinstance(value, tuple | list) else value, "labels": labels}
                   for value, labels in masks_labels.items()]
        _client().send_json("PUT", f"/api/versions/{self.id}/mask-labels/", {"mask_labels": entries})

    # --- frames -------------------------------------------------------------------------------------------

    @staticmethod
    def _batches(encoded: list[bytes], batch_size: int, max_bytes: int | None = None) -> Iterator[list[int]]:
        """Indexes of the encoded frames, at most ``batch_size`` frames and ``max_bytes`` (MAX_BATCH_BYTES) of
        JSON a batch."""
        max_bytes = max_bytes or MAX_BATCH_BYTES
        batch, size = [], 0
        for index, frame in enumerate(encoded):
            if batch and (len(batch) >= batch_size or size + len(frame) > max_bytes):
                yield batch
                batch, size = [], 0
            batch.append(index)
            size += len(frame) + 1
        if batch:
            yield batch

    def _upload_local(self, frame: dict, destination: str, root: str | None, attempts: int | None = None) -> None:
        for source in frame.get("sources", []):
            for holder, key, kind in [(source, "uri", "source"), (source.get("preview") or {}, "uri", "preview"),
                                      *((m, "uri", "mask") for m in source.get("masks", []))]:
                uri = holder.get(key)
                if not uri or "://" in uri and not uri.startswith("file://"):
                    continue
                local = Path(uri[len("file://"):] if uri.startswith("file://") else uri)
                if not local.is_file():
                    raise ValueError(f"local file {local} does not exist")
                relative = local.resolve().relative_to(Path(root).resolve()) if root else Path(local.name)
                path = safe_upload_path(f"{destination}/{relative.as_posix()}")
                with open(local, "rb") as handle:
                    uploaded = _client().request("POST", f"/api/datasets/{self.dataset_id}/uploads/",
                                                 files={"file": (local.name, handle)},
                                                 data={"kind": kind, "path": path}, retry=True,
                                                 attempts=attempts).json()
                holder[key] = uploaded["uri"]
                if kind == "source":  # as ClearML keeps it: the content's hash in the source's meta
                    source["meta"] = {**(source.get("meta") or {}), "hash": uploaded["hash"]}

    def add_frames(self, frames: Iterable[SingleFrame | FrameGroup | dict], auto_upload_destination: str | None = None,
                   local_dataset_root_path: str | None = None, batch_size: int = 10_000,
                   show_progress: bool = False, upload_retries: int = 5, max_request_size_mb: float | None = None
                   ) -> list:
        """Add (or replace) frames; returns the frames that failed. Each failure (index in ``frames``, id, field,
        reason) is in ``last_failures``, and set as ``failure`` on failed SingleFrame and FrameGroup objects.
        Local files are uploaded when ``auto_upload_destination`` is given, keeping their paths relative to
        ``local_dataset_root_path``, each tried up to ``upload_retries`` times. A request holds at most
        ``batch_size`` frames and ``max_request_size_mb`` of JSON (default 8 MB, half the server's bound)."""
        if upload_retries < 1:
            raise ValueError("upload_retries must be at least 1")
        max_bytes = int(max_request_size_mb * 2**20) if max_request_size_mb is not None else None
        if max_bytes is not None and max_bytes < 1:
            raise ValueError("max_request_size_mb must be positive")
        originals = list(frames)
        documents = [frame_to_api(f) for f in originals]
        if auto_upload_destination is not None:
            for document in documents:
                self._upload_local(document, auto_upload_destination, local_dataset_root_path, upload_retries)
        return self._send_frames("POST", originals, documents, batch_size, show_progress, "adding frames",
                                 max_bytes)

    def update_frames(self, frames: Iterable[SingleFrame | FrameGroup | dict], batch_size: int = 10_000) -> list:
        """Merge changes into existing frames; returns the frames that failed (details in ``last_failures``)."""
        originals = list(frames)
        return self._send_frames("PATCH", originals, [frame_to_api(f) for f in originals], batch_size, False, "")

    def _send_frames(self, method: str, originals: list, documents: list[dict], batch_size: int,
                     show_progress: bool, description: str, max_bytes: int | None = None) -> list:
        """Send frames in batches under the server's bounds. Each batch goes with an ``Idempotency-Key`` of its
        own, so a batch whose request fails (or whose answer is lost) is sent again safely: the server writes
        it once and answers the second time what it answered the first. One that still fails, or that the
        server refuses as a whole (e.g. too large), is reported frame by frame with the server's message, and
        the other batches go on. A call the server refuses for every batch (no access, no such version, a
        Published version) raises."""
        failed: list = []
        self.last_failures = []
        bar = _progress(show_progress, len(documents), description)
        encoded = _encoded_frames(documents)  # once: sizes the batches, then sent
        del documents
        for batch in self._batches(encoded, batch_size, max_bytes):
            body = b'{"frames":[' + b",".join([encoded[i] for i in batch]) + b"]}"
            try:
                result = _client().send_json(method, f"/api/versions/{self.id}/frames/", json_bytes=body,
                                             gzip_body=True, retry=True,
                                             headers={"Idempotency-Key": uuid.uuid4().hex})
                failures = [{**failure, "index": batch[failure["index"]]} for failure in result["failures"]]
            except (ServerError, InvalidRequestError) as exc:
                if exc.status == 409:  # the version is Published: no batch can be written
                    raise
                failures = [{"index": index, "id": _document_id(encoded[index]), "field": "",
                             "reason": f"the batch was not saved: {exc}"} for index in batch]
            for failure in failures:
                original = originals[failure["index"]]
                if isinstance(original, SingleFrame | FrameGroup):
                    original.failure = failure
                self.last_failures.append(failure)
                failed.append(original)
            if bar is not None:
                bar.update(len(batch))
        if bar is not None:
            bar.close()
        return failed

    def delete_frames(self, frames: Iterable[SingleFrame | FrameGroup | dict | str]) -> list[str]:
        """Delete frames (objects or ids); returns the ids this version did not hold. A call per 10,000 ids."""
        ids = [f if isinstance(f, str) else (f.id if not isinstance(f, dict) else f.get("id")) for f in frames]
        if any(not i for i in ids):
            raise ValueError("every frame to delete needs an id")
        missing: list[str] = []
        for start in range(0, len(ids), LOOKUP_BATCH):
            missing += _client().send_json("POST", f"/api/versions/{self.id}/frames/delete/",
                                           {"frame_ids": ids[start:start + LOOKUP_BATCH]})["missing"]
        return missing

    @_Hybrid
    def get_single_frame(cls, self, frame_id: str, dataset_name: str | None = None, dataset_id: str | None = None,
                         version_name: str | None = None, version_id: str | None = None,
                         dataset_project: str | None = None) -> SingleFrame | FrameGroup:
        """A frame by id: ``version.get_single_frame(id)`` or ``DatasetVersion.get_single_frame(id,
        dataset_name=..., version_name=...)``."""
        if self is None:
            self = cls.get_version(dataset_name=dataset_name, dataset_id=dataset_id, version_name=version_name,
                                   version_id=version_id, dataset_project=dataset_project)
        return frame_from_api(_client().get_json(f"/api/versions/{self.id}/frame/{_frame_segment(frame_id)}/"), self.id)

    def get_frames(self, frame_ids: list[str]) -> dict[str, SingleFrame | FrameGroup]:
        """The frames with these ids that the version holds (a call per 10,000 ids, the server's bound)."""
        ids = list(frame_ids)
        frames: dict[str, SingleFrame | FrameGroup] = {}
        for start in range(0, len(ids), LOOKUP_BATCH):
            found = _client().send_json("POST", f"/api/versions/{self.id}/frames/lookup/",
                                        {"frame_ids": ids[start:start + LOOKUP_BATCH]})
            frames.update((fid, frame_from_api(doc, self.id)) for fid, doc in found["frames"].items())
        return frames

    def iterate_frame_documents(self, page_size: int = 500, label: str | None = None, query: str | None = None,
                                order_by: str | None = None, **filters: Any) -> Iterator[dict]:
        """Every frame (of the query and filters) as its JSON document, in ``order_by``'s order, a page in
        memory at a time. ``filters``: ``sources_query``, ``label_rules``, ``filter_by_roi``, ``filters``
        (see docs/queries.md)."""
        params = {"label": label, "order_by": order_by, **_selection_params(query, filters)}
        cursor = None
        while True:
            page = _client().get_json(f"/api/versions/{self.id}/frames/", limit=page_size, cursor=cursor, **params)
            yield from page["frames"]
            cursor = page["next_cursor"]
            if cursor is None:
                return

    def iterate_frames(self, page_size: int = 500, label: str | None = None, query: str | None = None,
                       order_by: str | None = None, **filters: Any) -> Iterator[SingleFrame | FrameGroup]:
        """Every frame (of the Lucene ``query``, the label rules and filters) as a SingleFrame or FrameGroup,
        paged under the hood: ``version.iterate_frames(query="meta.city:Haifa", order_by="-meta.score")``."""
        for document in self.iterate_frame_documents(page_size=page_size, label=label, query=query,
                                                     order_by=order_by, **filters):
            yield frame_from_api(document, self.id)

    __iter__ = iterate_frames

    def get_frames_count(self, query: str | None = None, **filters: Any) -> int:
        """The number of frames (those the query and filters take, counted exactly)."""
        params = _selection_params(query, filters)
        return _client().get_json(f"/api/versions/{self.id}/frames/count/", **params)["count"]

    def get_statistics(self) -> dict:
        return _client().get_json(f"/api/versions/{self.id}/stats/")

    def import_annotations(self, path: str | Path, format: str = "coco", images_prefix: str | None = None,
                           show_progress: bool = False, wait: bool = True) -> AnnotationJob:
        """Import annotations into this Draft version, all or nothing. ``path``: the file (COCO's JSON, CVAT's
        XML), a zip archive, or a folder laid out as the format lays out a dataset (sent as a zip). Each
        image's source is ``images_prefix`` (``s3://bucket/coco/val2017/``, ...) + its path; without a prefix
        the images in the archive or folder are uploaded into the server's media storage. Waits for the
        server's job (a tqdm bar with ``show_progress``) and raises the server's message when it fails."""
        local = Path(path)
        with contextlib.ExitStack() as stack:
            if local.is_dir():
                spooled = stack.enter_context(tempfile.TemporaryFile())
                with zipfile.ZipFile(spooled, "w", zipfile.ZIP_DEFLATED) as archive:
                    for member in sorted(p for p in local.rglob("*") if p.is_file()):
                        archive.write(member, member.relative_to(local).as_posix())
                spooled.seek(0)
                handle, name = spooled, f"{local.name or 'dataset'}.zip"
            else:
                handle, name = stack.enter_context(open(local, "rb")), local.name
            data = _client().request("POST", f"/api/versions/{self.id}/annotation-imports/",
                                     files={"file": (name, handle)},
                                     data={"format": format, "images_prefix": images_prefix or ""}).json()
        job = AnnotationJob(data)
        return job.wait(show_progress=show_progress).raise_if_failed() if wait else job

    def export_annotations(self, format: str = "coco", destination: str | Path = ".",
                           show_progress: bool = False, include_images: bool = False) -> Path:
        """Export this version as an annotation archive, unpacked into the folder ``destination``; returns
        it. With ``include_images``, the images the server stores (its uploads) are copied in as well. What
        the format cannot carry is counted in ``last_export_report`` and warned about."""
        data = _client().send_json("POST", f"/api/versions/{self.id}/annotation-exports/",
                                   {"format": format, "include_images": include_images})
        job = AnnotationJob(data).wait(show_progress=show_progress).raise_if_failed()
        self.last_export_report = dict(job.report)
        if job.report:
            left = ", ".join(f"{count} {kind}" for kind, count in job.report.items())
            warnings.warn(f"{format} cannot carry: {left}", stacklevel=2)
        return job.extract(destination)

    def add_tags(self, tags: list[str]) -> list[str]:
        """Tag a Draft version (ordered, each once); returns its tags."""
        self._data = _client().send_json("POST", f"/api/versions/{self.id}/tags/add/", {"tags": list(tags)})
        return self.tags

    def remove_tags(self, tags: list[str]) -> list[str]:
        self._data = _client().send_json("POST", f"/api/versions/{self.id}/tags/remove/", {"tags": list(tags)})
        return self.tags

    def get_bulk_context(self, flush_threshold: int | None = None, log: Any = None, refresh_version_stats: bool = True,
                         auto_upload_destination: str | None = None, local_dataset_root_path: str | None = None,
                         allow_update: bool = False) -> BulkContext:
        """``with version.get_bulk_context(...) as bulk: bulk.add_frame(frame)``: frames are sent every
        ``flush_threshold`` (default 10,000) and when the block ends; see ``BulkContext``."""
        return BulkContext(self, flush_threshold=flush_threshold, log=log, refresh_version_stats=refresh_version_stats,
                           auto_upload_destination=auto_upload_destination,
                           local_dataset_root_path=local_dataset_root_path, allow_update=allow_update)

    def commit_version(self) -> dict:
        """ClearML's call after adding frames. The server keeps a version's counts with every write, so there
        is nothing left to commit: this answers them (``frames``, ``annotated``, ``labels``, ...)."""
        return self.get_statistics()

    def get_single_frames(self, frame_ids: Iterable[str]) -> list[SingleFrame | FrameGroup]:
        """The frames with these ids that the version holds, in the order asked (ids it lacks are left out)."""
        ids = list(frame_ids)
        found = self.get_frames(ids)
        return [found[fid] for fid in dict.fromkeys(ids) if fid in found]

    def diff(self, other: DatasetVersion) -> dict[str, Any]:
        """Frame ids added, removed and modified going from this version to ``other``, with counts."""
        changes: dict[str, Any] = {"added": [], "removed": [], "modified": []}
        for line in _client().lines(f"/api/versions/{self.id}/diff/", other=other.id):
            if "counts" in line:
                changes["counts"] = line["counts"]
            else:
                changes[line["change"]].append(line["id"])
        return changes




class BulkContext:
    """Frames collected and sent in batches, as ClearML's ``get_bulk_context``: ``add_frame`` (add, or replace
    a frame of the same id), ``update`` (with ``allow_update``, a merge into the stored frame: given fields
    replace, ``meta`` and ``meta_blob`` merge key by key, so fields cannot be removed this way; without it, an
    add that replaces the whole frame) and ``delete``. The operations are sent in the order given, every
    ``flush_threshold`` of them, on ``flush()`` and when the ``with`` block ends (also when it ends with an
    error: what was collected is sent, then the error goes on). Frames that failed are in ``failed`` and
    ``last_failures``; with ``refresh_version_stats`` the version's counts are in ``stats`` at the end."""

    def __init__(self, version: DatasetVersion, *, flush_threshold: int | None = None, log: Any = None,
                 refresh_version_stats: bool = True, auto_upload_destination: str | None = None,
                 local_dataset_root_path: str | None = None, allow_update: bool = False) -> None:
        if flush_threshold is not None and flush_threshold < 1:
            raise ValueError("flush_threshold must be a positive number of frames")
        self.version = version
        self.flush_threshold = flush_threshold or 10_000
        self.log = log
        self.refresh_version_stats = refresh_version_stats
        self.auto_upload_destination = auto_upload_destination
        self.local_dataset_root_path = local_dataset_root_path
        self.allow_update = allow_update
        self.failed: list = []
        self.last_failures: list[dict] = []
        self.missing: list[str] = []  # ids given to delete that the version did not hold
        self.stats: dict | None = None
        self._pending: list[tuple[str, Any]] = []
        self._seen: set[str] = set()

    def __enter__(self) -> BulkContext:
        return self

    def __exit__(self, *exc_info) -> None:
        self.flush()
        if self.refresh_version_stats:
            self.stats = self.version.commit_version()

    def add_frame(self, frame: SingleFrame | FrameGroup | dict, warn_on_duplicate_frames: bool = False) -> None:
        frame_id = frame.get("id") if isinstance(frame, dict) else frame.id
        if warn_on_duplicate_frames and frame_id is not None:
            if frame_id in self._seen:
                warnings.warn(f"frame {frame_id!r} was already added in this bulk context; the later one is kept",
                              stacklevel=2)
            self._seen.add(frame_id)
        self._queue("add", frame)

    def update(self, frame: SingleFrame | FrameGroup | dict) -> None:
        self._queue("update" if self.allow_update else "add", frame)

    def delete(self, frame: SingleFrame | FrameGroup | dict | str) -> None:
        self._queue("delete", frame)

    def _queue(self, kind: str, item: Any) -> None:
        self._pending.append((kind, item))
        if len(self._pending) >= self.flush_threshold:
            self.flush()

    def flush(self) -> None:
        """Send what was collected: each run of the same operation in one call."""
        pending, self._pending = self._pending, []
        start = 0
        while start < len(pending):
            kind = pending[start][0]
            end = start
            while end < len(pending) and pending[end][0] == kind:
                end += 1
            items = [item for _, item in pending[start:end]]
            if kind == "add":
                failed = self.version.add_frames(items, auto_upload_destination=self.auto_upload_destination,
                                                 local_dataset_root_path=self.local_dataset_root_path)
            elif kind == "update":
                failed = self.version.update_frames(items)
            else:
                self.missing += self.version.delete_frames(items)
                failed = []
            if failed:
                self.failed += failed
                self.last_failures += [{**f, "index": None} for f in self.version.last_failures]
            if self.log is not None:
                self.log.info("bulk context: %s %d frames, %d failed", kind, len(items), len(failed))
            start = end
