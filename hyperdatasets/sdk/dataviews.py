"""Dataviews in ClearML's legacy style: ``from hyperdatasets.sdk import DataView, IterationOrder``.

A ``DataView`` is built locally (``add_query``, ``add_multi_query``, ``add_mapping_rule``, ``set_labels``,
``set_iteration_parameters``) and stored on the server when it is first counted or iterated (or on
``store()``). Iterating starts a run on the server and reads it batch by batch; frames come back as
``SingleFrame`` or ``FrameGroup``, each annotation with its ``label_enum`` (the enumeration's number, -1
when unset), plus ``dataview_rule`` and ``dataview_source`` ({dataset id, version id}) on the frame.
"""

from __future__ import annotations

import os
import re
import uuid
import warnings
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any

from hyperdatasets.sdk.client import _Client
from hyperdatasets.sdk.frames import FrameGroup, SingleFrame, frame_from_api
from hyperdatasets.sdk.jobs import AnnotationJob, DataViewExport


def _client() -> _Client:
    return _Client.get()

ANY = "*"
# A ROI query that is a plain label (no field, operator or wildcard) is quoted as one.
_LUCENE = re.compile(r'[:*?"()\[\]{}\\/^~]|\b(AND|OR|NOT)\b|^[+-]')


class IterationOrder(StrEnum):
    sequential = "sequential"
    random = "random"


def _label_query(roi_query: str | list[str] | tuple[str, ...]) -> str:
    """A label, a list of labels (all on the same ROI), or Lucene over one ROI's labels."""
    def quoted(label: str) -> str:
        return '"' + label.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(roi_query, list | tuple):
        return " AND ".join(quoted(label) for label in roi_query)
    if _LUCENE.search(roi_query):
        return roi_query
    return quoted(roi_query)


class DataView:
    """A dataview. ``iteration_order``: sequential (context_id, timestamp, id) or random (seeded);
    ``iteration_infinite``: repeat without end (up to ``maximum_number_of_frames`` when given)."""

    class RoiQuery:
        """One ROI rule of a filter: a label (or list, or Lucene) that some ROI must have, or, with
        ``must_not``, that no ROI may have."""

        def __init__(self, label: str | list[str] | None = None, must_not: bool = False,
                     count_range: tuple[int, int] | None = None, conf_range: tuple[float, float] | None = None
                     ) -> None:
            self.label, self.must_not, self.count_range, self.conf_range = label, must_not, count_range, conf_range

        def to_rule(self) -> dict:
            rule: dict[str, Any] = {"must_not": bool(self.must_not)}
            if self.label is not None:
                rule["label"] = _label_query(self.label)
            if self.count_range is not None:
                rule["count_range"] = list(self.count_range)
            if self.conf_range is not None:
                rule["conf_range"] = list(self.conf_range)
            return rule

    def __init__(self, name: str | None = None, iteration_order: IterationOrder | str = IterationOrder.sequential,
                 iteration_infinite: bool = False, maximum_number_of_frames: int | None = None,
                 random_seed: int | None = None, description: str | None = None, tags: list[str] | None = None,
                 project_name: str | None = None) -> None:
        self.id: str | None = None
        self.name = name or f"dataview-{uuid.uuid4().hex[:12]}"
        self.description, self.tags, self.project_name = description or "", list(tags or []), project_name
        self._versions: list[dict] = []
        self.last_export_report: dict[str, int] = {}
        self._filters: list[dict] = []
        self._mapping: list[dict] = []
        self._labels: dict[str, int] = {}
        self._iteration: dict[str, Any] = {"order": IterationOrder(iteration_order).value,
                                           "infinite": bool(iteration_infinite), "limit": maximum_number_of_frames}
        if random_seed is not None:
            self._iteration["random_seed"] = random_seed
        self.status = "draft"
        self.random_seed: int | None = random_seed

    # --- the recipe ----------------------------------------------------------------------------------------

    def _input(self, dataset_name, dataset_id, version_name, version_id, dataset_project) -> tuple[str, str]:
        """Adds the input version (once) and answers how a rule refers to it."""
        if dataset_name is None and dataset_id is None:
            raise ValueError("give dataset_name or dataset_id ('*' for every dataset of the view)")
        dataset_ref = dataset_id or dataset_name
        version_ref = version_id or version_name or ANY
        if dataset_ref == ANY:
            return ANY, ANY
        if version_ref != ANY:
            entry = {"dataset_id": dataset_id} if dataset_id else {"dataset_name": dataset_name}
            if dataset_project is not None and not dataset_id:
                entry["dataset_project"] = dataset_project
            entry.update({"version_id": version_id} if version_id else {"version_name": version_name})
            if entry not in self._versions:
                self._versions.append(entry)
        return dataset_ref, version_ref

    def add_query(self, dataset_name: str | None = None, version_name: str | None = None,
                  roi_query: str | list[str] | None = None, frame_query: str | None = None, weight: float = 1,
                  dataset_id: str | None = None, version_id: str | None = None, dataset_project: str | None = None,
                  sources_query: str | None = None) -> None:
        """One filter rule (rules are ORed): frames of the version (``'*'``: every version of the dataset in
        the view; dataset ``'*'``: every input) with ``roi_query`` on some ROI and ``frame_query`` on the frame."""
        roi_queries = [DataView.RoiQuery(label=roi_query)] if roi_query is not None else []
        self.add_multi_query(dataset_name, version_name, frame_query=frame_query, roi_queries=roi_queries,
                             weight=weight, dataset_id=dataset_id, version_id=version_id,
                             dataset_project=dataset_project, sources_query=sources_query)

    def add_multi_query(self, dataset_name: str | None = None, version_name: str | None = None,
                        frame_query: str | None = None, roi_queries: list | None = None, weight: float = 1,
                        dataset_id: str | None = None, version_id: str | None = None,
                        dataset_project: str | None = None, sources_query: str | None = None) -> None:
        """One filter rule whose ROI rules are ANDed (each satisfied by some ROI, maybe different ones)."""
        dataset_ref, version_ref = self._input(dataset_name, dataset_id, version_name, version_id, dataset_project)
        rules = [q.to_rule() if isinstance(q, DataView.RoiQuery) else dict(q) for q in roi_queries or []]
        rule: dict[str, Any] = {"dataset": dataset_ref, "version": version_ref, "weight": weight}
        if rules:
            rule["label_rules"] = rules
        if frame_query is not None:
            rule["frame_query"] = frame_query
        if sources_query is not None:
            rule["sources_query"] = sources_query
        self._filters.append(rule)

    def get_queries(self) -> list[dict]:
        return [dict(rule) for rule in self._filters]

    def set_iteration_parameters(self, order: IterationOrder | str | None = None, infinite: bool | None = None,
                                 maximum_number_of_frames: int | None = None, random_seed: int | None = None) -> None:
        if order is not None:
            self._iteration["order"] = IterationOrder(order).value
        if infinite is not None:
            self._iteration["infinite"] = bool(infinite)
        if maximum_number_of_frames is not None:
            self._iteration["limit"] = maximum_number_of_frames
        if random_seed is not None:
            self._iteration["random_seed"] = self.random_seed = random_seed

    def set_labels(self, labels: dict[str, int]) -> None:
        """The enumeration: each ROI's ``label_enum`` (-1 for labels not in it). Use the labels mapped to."""
        self._labels = dict(labels)

    def get_labels(self) -> dict[str, int]:
        return dict(self._labels)

    def add_mapping_rule(self, dataset_name: str | None = None, version_name: str | None = None,
                         from_labels: list[str] | None = None, to_label: str | None = None,
                         dataset_id: str | None = None, version_id: str | None = None) -> None:
        """ROIs with every one of ``from_labels`` (``'*'``: any) get ``to_label``, after filtering."""
        if not from_labels or to_label is None:
            raise ValueError("give from_labels and to_label")
        self._mapping.append({"source": {"dataset": dataset_id or dataset_name or ANY,
                                         "version": version_id or version_name or ANY,
                                         "labels": list(from_labels)}, "target": to_label})

    def get_mapping_rules(self) -> list[dict]:
        return [dict(rule) for rule in self._mapping]

    # --- on the server -------------------------------------------------------------------------------------

    def _recipe(self) -> dict:
        return {"versions": self._versions, "filters": self._filters, "mapping": self._mapping,
                "labels_enumeration": self._labels, "iteration": self._iteration}

    def store(self) -> DataView:
        """Create the dataview on the server, or write the local changes to it (a Published one is refused)."""
        body = {"description": self.description, "tags": self.tags, **self._recipe()}
        if self.id is None:
            answer = _client().send_json("POST", "/api/dataviews/",
                                         {"name": self.name, "project_name": self.project_name, **body})
        else:
            answer = _client().send_json("PATCH", f"/api/dataviews/{self.id}/", {"name": self.name, **body})
        self._read(answer)
        return self

    def _read(self, answer: dict) -> None:
        self.id, self.name, self.status = answer["id"], answer["name"], answer["status"]
        self.description, self.tags, self.project_name = answer["description"], answer["tags"], answer["project_name"]
        self._versions = [{"dataset_id": v["dataset"], "version_id": v["version"]} for v in answer["versions"]]
        self._filters, self._mapping = answer["filters"], answer["mapping"]
        self._labels, self._iteration = answer["labels_enumeration"], answer["iteration"]
        self.random_seed = self._iteration.get("random_seed")

    def _stored(self) -> str:
        if self.id is None:
            self.store()
        return self.id

    @classmethod
    def get(cls, dataview_id: str | None = None, name: str | None = None,
            project_name: str | None = None, dataview_name: str | None = None) -> DataView:
        """A stored dataview, by id, or by name (``dataview_name`` is ClearML's spelling): in ``project_name``
        when given, else the one outside any project, else the one dataview of that name in any project."""
        name = name if name is not None else dataview_name
        if dataview_id is not None:
            answer = _client().get_json(f"/api/dataviews/{dataview_id}/")
        elif name is not None:
            answer = _client().get_json("/api/dataviews/lookup/", name=name, project_name=project_name)
        else:
            raise ValueError("give dataview_id or name")
        view = cls(name=answer["name"])
        view._read(answer)
        return view

    def get_count(self) -> int:
        return _client().get_json(f"/api/dataviews/{self._stored()}/count/")["total"]

    def get_count_per_rule(self) -> list[dict]:
        """Per rule: ``count`` (the frames it takes on its own) and ``share`` (its items in an iteration)."""
        return _client().get_json(f"/api/dataviews/{self._stored()}/count/")["rules"]

    def get_iterator(self, projection: list[str] | None = None, num_workers: int | None = None,
                     worker_index: int | None = None, allow_repetition: bool = False, batch_size: int = 500,
                     run_key: str | None = None, random_seed: int | None = None,
                     ) -> Iterator[SingleFrame | FrameGroup] | Iterator[dict]:
        """Frames of a new run, worker ``worker_index``'s part of ``num_workers`` (all of them by default); with
        ``projection`` (dotted field paths), dicts of those fields instead. Processes that pass the same
        ``run_key`` read one run (the first to ask starts it), so their parts are disjoint and make the whole.
        ``random_seed`` overrides the dataview's for this run."""
        body: dict[str, Any] = {"allow_repetition": allow_repetition}
        if run_key is not None:
            body["key"] = run_key
        if random_seed is not None:
            body["iteration"] = {"random_seed": random_seed}
        run = _client().send_json("POST", f"/api/dataviews/{self._stored()}/iterations/", body)
        self.random_seed = run["random_seed"]
        return self._read_run(run["id"], projection, num_workers or 1, worker_index or 0, batch_size)

    def prefetch_files(self, num_workers: int | None = None, wait: bool = True, previews: bool = False,
                       masks: bool = True, raise_on_error: bool = False):
        """Fetch the files of every frame of an iteration into the local cache (``hyperdatasets.sdk.cache``)
        with ``num_workers`` threads, so that ``get_local_source()`` then reads from disk. Answers the number of
        files cached; with ``wait=False``, a ``concurrent.futures.Future`` of it. Files that cannot be fetched
        are skipped with a warning (raised with ``raise_on_error``)."""
        from concurrent.futures import ThreadPoolExecutor

        if self._iteration.get("infinite") and self._iteration.get("limit") is None:
            raise ValueError("an infinite dataview without maximum_number_of_frames cannot be prefetched")
        workers = num_workers or min(8, (os.cpu_count() or 1) * 2)
        frames = self.get_iterator()
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prefetch")

        def fetch(frame: SingleFrame) -> int:
            paths = [frame.get_local_source(raise_on_error=raise_on_error)]
            if previews and frame.preview_uri:
                paths.append(frame.get_local_preview_source(raise_on_error=raise_on_error))
            if masks:
                paths += frame.get_local_mask_sources(raise_on_error=raise_on_error).values()
            return sum(path is not None for path in paths)

        def run() -> int:
            try:
                pending, total = [], 0
                for frame in frames:
                    members = list(frame.values()) if isinstance(frame, FrameGroup) else [frame]
                    pending += [pool.submit(fetch, member) for member in members]
                    if len(pending) >= workers * 64:
                        total += sum(f.result() for f in pending)
                        pending = []
                return total + sum(f.result() for f in pending)
            finally:
                pool.shutdown(wait=False)

        if wait:
            return run()
        feeder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch-feed")
        future = feeder.submit(run)
        feeder.shutdown(wait=False)  # the thread ends with the prefetch
        return future

    def _read_run(self, run_id: str, projection, workers: int, worker: int, batch_size: int):
        """The run's frames, batch by batch from the cursor each batch returns. The next batch is asked for
        as soon as a batch arrives, on a connection of the iterator's own, so the server reads it while this
        process turns the current one into frames."""
        from concurrent.futures import ThreadPoolExecutor

        path = f"/api/dataview-iterations/{run_id}/next/"
        extra: dict[str, Any] = {"projection": list(projection)} if projection else {}
        body: dict[str, Any] = {"batch_size": batch_size, "worker_index": worker, "num_workers": workers, **extra}
        client = _Client()
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dataview-batches")
        pending = None
        try:
            pending = pool.submit(client.send_json, "POST", path, body, retry=True)
            while True:
                batch = pending.result()
                if not batch["eof"]:
                    pending = pool.submit(client.send_json, "POST", path,
                                          {"cursor": batch["cursor"], "batch_size": batch_size, **extra}, retry=True)
                if projection:
                    yield from batch["frames"]
                else:
                    for frame in batch["frames"]:
                        yield _frame(frame)
                if batch["eof"]:
                    return
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            if pending is None or pending.done():
                client.session.close()  # else the request in flight ends first, and the session goes with it

    def export_frames(self, format: str = "jsonl", projection: list[str] | None = None, wait: bool = True,
                      show_progress: bool = False, timeout: float | None = None) -> DataViewExport:
        """Have the server write the dataview's frames (as they are when the job runs: its order and limit,
        one pass) into one file, ``format`` ``json`` (an array) or ``jsonl`` (a frame per line), each reduced to
        ``projection`` when given. With ``wait``, returns once the job has ended (a tqdm bar with
        ``show_progress``); ``.download(path)`` then fetches the file."""
        body: dict[str, Any] = {"format": format}
        if projection is not None:
            body["projection"] = list(projection)
        job = DataViewExport(_client().send_json("POST", f"/api/dataviews/{self._stored()}/exports/", body))
        return job.wait(show_progress=show_progress, timeout=timeout) if wait else job

    def export_annotations(self, format: str = "coco", destination: str | Path = ".",
                           show_progress: bool = False, include_images: bool = False) -> Path:
        """Export the frames a run of the dataview takes (its order and limit, one pass; mapping and
        enumeration applied) as an annotation archive (``coco``, ``yolo``, ``voc``, ``cvat``, ``datumaro``),
        unpacked into the folder ``destination``; returns it. What the format cannot carry is counted in
        ``last_export_report`` and warned about."""
        data = _client().send_json("POST", f"/api/dataviews/{self._stored()}/annotation-exports/",
                                   {"format": format, "include_images": include_images})
        job = AnnotationJob(data).wait(show_progress=show_progress).raise_if_failed()
        self.last_export_report = dict(job.report)
        if job.report:
            left = ", ".join(f"{count} {kind}" for kind, count in job.report.items())
            warnings.warn(f"{format} cannot carry: {left}", stacklevel=2)
        return job.extract(destination)

    def get_exports(self) -> list[DataViewExport]:
        """The dataview's exports, newest first."""
        return [DataViewExport(d) for d in _client().pages(f"/api/dataviews/{self._stored()}/exports/")]

    def __iter__(self):
        return self.get_iterator()

    def to_list(self) -> list[SingleFrame | FrameGroup]:
        if self._iteration.get("infinite") and self._iteration.get("limit") is None:
            raise ValueError("an infinite dataview without maximum_number_of_frames has no list")
        return list(self.get_iterator())

    def to_dict(self, projection: list[str] | None = None) -> list[dict]:
        if self._iteration.get("infinite") and self._iteration.get("limit") is None:
            raise ValueError("an infinite dataview without maximum_number_of_frames has no list")
        return list(self.get_iterator(projection=projection or ["id", "dataset.id", "dataset.version", "sources"]))


def _frame(frame: dict) -> SingleFrame | FrameGroup:
    for roi in frame.get("rois") or []:
        roi["label_enum"] = roi.get("label_num", -1)
    read = frame_from_api(frame, version_id=frame["dataset"]["version"])
    read.dataview_rule = frame.get("rule_index")
    read.dataview_source = dict(frame["dataset"])
    return read
