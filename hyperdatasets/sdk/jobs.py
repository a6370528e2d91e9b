"""Server-side jobs as the server reports them: deleting a dataset's source objects, exporting a dataview's
frames."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from hyperdatasets.sdk.client import _Client


class DeletionJob:
    """A server-side job deleting the source objects of a deleted dataset.

    ``status`` is queued, running, succeeded, failed or partly_failed; ``total``, ``deleted``, ``skipped`` and
    ``failed`` count objects (``providers`` per store, ``skipped_reasons`` per reason, ``errors`` grouped).
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        d = self._data
        return (f"<DeletionJob {d['id']} {d['status']}: {d['deleted']} deleted, {d['skipped']} skipped, "
                f"{d['failed']} failed of {d['total']}>")

    @property
    def done(self) -> int:
        return self._data["deleted"] + self._data["skipped"] + self._data["failed"]

    @classmethod
    def get(cls, job_id: str) -> DeletionJob:
        return cls(_Client.get().get_json(f"/api/deletion-jobs/{job_id}/"))

    @classmethod
    def list(cls) -> list[DeletionJob]:
        return [cls(d) for d in _Client.get().pages("/api/deletion-jobs/")]

    def refresh(self) -> DeletionJob:
        self._data = _Client.get().get_json(f"/api/deletion-jobs/{self.id}/")
        return self

    def retry_failed(self) -> DeletionJob:
        """Give the failed objects another set of attempts."""
        self._data = _Client.get().send_json("POST", f"/api/deletion-jobs/{self.id}/retry/", None)
        return self

    def wait(self, show_progress: bool = False, poll_seconds: float = 0.5, timeout: float | None = None
             ) -> DeletionJob:
        """Poll until the job ends; with ``show_progress``, a tqdm bar of objects done out of the total.
        Raises TimeoutError after ``timeout`` seconds (the job goes on on the server)."""
        bar = None
        if show_progress:
            from tqdm import tqdm

            bar = tqdm(total=self.total, desc=f"deleting sources of {self.dataset_name}", unit="object")
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                if bar is not None:
                    bar.update(self.done - bar.n)
                    bar.set_postfix(deleted=self.deleted, skipped=self.skipped, failed=self.failed)
                if self.finished:
                    return self
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"deletion job {self.id} is still {self.status} after {timeout} s")
                time.sleep(poll_seconds)
                self.refresh()
        finally:
            if bar is not None:
                bar.close()


class DataViewExport:
    """A server-side job writing a dataview's frames into one file (``DataView.export_frames``).

    ``status`` is queued, running, succeeded or failed; ``done`` of ``total`` items read, ``written`` frames,
    ``size`` bytes and ``download_url`` once it succeeded, ``error`` when it failed.
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        d = self._data
        return f"<DataViewExport {d['id']} {d['status']}: {d['done']} of {d['total']} items, {d['written']} frames>"

    @property
    def finished(self) -> bool:
        return self._data["status"] in ("succeeded", "failed")

    @classmethod
    def get(cls, export_id: str) -> DataViewExport:
        return cls(_Client.get().get_json(f"/api/dataview-exports/{export_id}/"))

    def refresh(self) -> DataViewExport:
        self._data = _Client.get().get_json(f"/api/dataview-exports/{self.id}/")
        return self

    def wait(self, show_progress: bool = False, poll_seconds: float = 0.5, timeout: float | None = None
             ) -> DataViewExport:
        """Poll until the job ends; with ``show_progress``, a tqdm bar of items read out of the total. Raises
        TimeoutError after ``timeout`` seconds (the job goes on on the server)."""
        bar = None
        if show_progress:
            from tqdm import tqdm

            bar = tqdm(total=self.total, desc="exporting frames", unit="frame")
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                if bar is not None:
                    if bar.total != self.total:
                        bar.total = self.total
                    bar.update(self.done - bar.n)
                if self.finished:
                    return self
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"dataview export {self.id} is still {self.status} after {timeout} s")
                time.sleep(poll_seconds)
                self.refresh()
        finally:
            if bar is not None:
                bar.close()

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
