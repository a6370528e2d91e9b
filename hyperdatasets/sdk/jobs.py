"""Server-side jobs as the server reports them: deleting a dataset's source objects, exporting a dataview's
frames, importing and exporting annotation files."""

from __future__ import annotations

import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from hyperdatasets.sdk.client import HyperDatasetsError, _Client


class _ServerJob:
    """A job the server runs, read back from ``PATH`` (with ``{id}``): its fields as attributes, ``refresh()``,
    and ``wait()``, which polls until ``_ended()`` with an optional tqdm bar of ``done`` out of ``total``."""

    PATH = ""
    KIND = "job"
    UNIT = "item"

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(name) from None

    @classmethod
    def get(cls, job_id: str):
        return cls(_Client.get().get_json(cls.PATH.format(id=job_id)))

    def refresh(self):
        self._data = _Client.get().get_json(self.PATH.format(id=self.id))
        return self

    def _ended(self) -> bool:
        raise NotImplementedError

    def _bar_text(self) -> tuple[str, dict[str, Any]]:
        """The bar's description and the counts shown beside it."""
        return self.KIND, {}

    def wait(self, show_progress: bool = False, poll_seconds: float = 0.5, timeout: float | None = None):
        """Poll until the job ends; with ``show_progress``, a tqdm bar of work done out of the total.
        Raises TimeoutError after ``timeout`` seconds (the job goes on on the server)."""
        bar = None
        if show_progress:
            from tqdm import tqdm

            bar = tqdm(total=self.total, desc=self._bar_text()[0], unit=self.UNIT)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                if bar is not None:
                    if bar.total != self.total:
                        bar.total = self.total
                    bar.update(self.done - bar.n)
                    bar.set_postfix(self._bar_text()[1])
                if self._ended():
                    return self
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"{self.KIND} {self.id} is still {self.status} after {timeout} s")
                time.sleep(poll_seconds)
                self.refresh()
        finally:
            if bar is not None:
                bar.close()


class DeletionJob(_ServerJob):
    """A server-side job deleting the source objects of a deleted dataset.

    ``status`` is queued, running, succeeded, failed or partly_failed; ``total``, ``deleted``, ``skipped`` and
    ``failed`` count objects (``providers`` per store, ``skipped_reasons`` per reason, ``errors`` grouped).
    """

    PATH = "/api/deletion-jobs/{id}/"
    KIND = "deletion job"
    UNIT = "object"

    def __repr__(self) -> str:
        d = self._data
        return (f"<DeletionJob {d['id']} {d['status']}: {d['deleted']} deleted, {d['skipped']} skipped, "
                f"{d['failed']} failed of {d['total']}>")

    @property
    def done(self) -> int:
        return self._data["deleted"] + self._data["skipped"] + self._data["failed"]

    @classmethod
    def list(cls) -> list[DeletionJob]:
        return [cls(d) for d in _Client.get().pages("/api/deletion-jobs/")]

    def retry_failed(self) -> DeletionJob:
        """Give the failed objects another set of attempts."""
        self._data = _Client.get().send_json("POST", f"/api/deletion-jobs/{self.id}/retry/", None)
        return self

    def _ended(self) -> bool:
        return bool(self._data["finished"])

    def _bar_text(self) -> tuple[str, dict[str, Any]]:
        return (f"deleting sources of {self.dataset_name}",
                {"deleted": self.deleted, "skipped": self.skipped, "failed": self.failed})


class DataViewExport(_ServerJob):
    """A server-side job writing a dataview's frames into one file (``DataView.export_frames``).

    ``status`` is queued, running, succeeded or failed; ``done`` of ``total`` items read, ``written`` frames,
    ``size`` bytes and ``download_url`` once it succeeded, ``error`` when it failed.
    """

    PATH = "/api/dataview-exports/{id}/"
    KIND = "dataview export"
    UNIT = "frame"

    def __repr__(self) -> str:
        d = self._data
        return f"<DataViewExport {d['id']} {d['status']}: {d['done']} of {d['total']} items, {d['written']} frames>"

    @property
    def finished(self) -> bool:
        return self._data["status"] in ("succeeded", "failed")

    def _ended(self) -> bool:
        return self.finished

    def _bar_text(self) -> tuple[str, dict[str, Any]]:
        return "exporting frames", {"written": self.written}

    def download(self, path: str | Path) -> Path:
        """Write the exported file to ``path`` (a folder: the file keeps its name there) and return where it is.
        Raises RuntimeError when the job failed or has not finished."""
        if self.status != "succeeded":
            raise RuntimeError(f"dataview export {self.id} is {self.status}"
                               + (f": {self.error}" if self.error else "") + "; nothing to download")
        response = _Client.get().request("GET", self.download_url, stream=True, retry=True)
        target = Path(path)
        if target.is_dir():
            disposition = response.headers.get("Content-Disposition", "")
            name = disposition.split("filename=", 1)[-1].strip('"') if "filename=" in disposition else ""
            target = target / (Path(name).name or f"{self.id}.{self.format}")
        partial = target.with_name(target.name + ".part")
        with open(partial, "wb") as out:
            for chunk in response.iter_content(1024 * 1024):
                out.write(chunk)
        partial.replace(target)
        return target

    def delete(self) -> None:
        _Client.get().request("DELETE", f"/api/dataview-exports/{self.id}/")


class AnnotationJob(_ServerJob):
    """A server-side import of an annotation file into a Draft version, or export of a version as an
    annotation archive (``DatasetVersion.import_annotations`` / ``export_annotations``).

    ``status`` is queued, running, succeeded or failed; ``done`` of ``total`` images, ``annotations``,
    ``report`` (an export: what the format could not carry, counted), ``error`` when it failed.
    """

    PATH = "/api/annotation-jobs/{id}/"
    KIND = "annotation job"
    UNIT = "image"

    def __repr__(self) -> str:
        d = self._data
        return f"<AnnotationJob {d['kind']} {d['format']} {d['id']} {d['status']}: {d['done']} of {d['total']} images>"

    def _ended(self) -> bool:
        return self._data["status"] in ("succeeded", "failed")

    def _bar_text(self) -> tuple[str, dict[str, Any]]:
        return f"{self.kind}ing {self.format}", {"annotations": self.annotations}

    def raise_if_failed(self) -> AnnotationJob:
        if self.status == "failed":
            raise HyperDatasetsError(f"annotation {self.kind} {self.id} failed: {self.error}")
        return self

    def extract(self, destination: str | Path) -> Path:
        """Unpack a succeeded export's archive into the folder ``destination`` (made if missing) and return it."""
        if self.kind != "export" or self.status != "succeeded":
            raise RuntimeError(f"annotation job {self.id} is a {self.status} {self.kind}; nothing to extract")
        folder = Path(destination)
        folder.mkdir(parents=True, exist_ok=True)
        response = _Client.get().request("GET", self.download_url, stream=True, retry=True)
        with tempfile.TemporaryFile() as spooled:
            for chunk in response.iter_content(1024 * 1024):
                spooled.write(chunk)
            spooled.seek(0)
            with zipfile.ZipFile(spooled) as archive:
                root = folder.resolve()
                for member in archive.namelist():
                    if not (root / member).resolve().is_relative_to(root):
                        raise HyperDatasetsError(f"the archive names a path outside the folder: {member!r}")
                archive.extractall(folder)
        return folder
