"""The files of an import: one uploaded file, or the members of an uploaded zip archive.

Archives are read in memory member by member, never unpacked to disk: member names are checked (no absolute
paths, no ``..``), and the archive's declared sizes are bounded before anything is read (a zip bomb is
refused by its directory, and each member is read only up to its declared size).
"""

from __future__ import annotations

import io
import posixpath
import zipfile

from formats.coco import FormatError

MAX_MEMBERS = 500_000
MAX_UNPACKED = 8 * 2**30
ZIP_MAGIC = b"PK\x03\x04"


class Bundle:
    def __init__(self, name: str, raw: bytes) -> None:
        self.name = name
        self._raw = raw
        self._archive: zipfile.ZipFile | None = None
        self._members: dict[str, zipfile.ZipInfo] = {}
        if raw.startswith(ZIP_MAGIC):
            try:
                self._archive = zipfile.ZipFile(io.BytesIO(raw))
            except zipfile.BadZipFile as exc:
                raise FormatError(name, "archive", f"is not a readable zip archive ({exc})") from None
            infos = [info for info in self._archive.infolist() if not info.is_dir()]
            if len(infos) > MAX_MEMBERS:
                raise FormatError(name, "archive", f"holds more than {MAX_MEMBERS} files")
            if sum(info.file_size for info in infos) > MAX_UNPACKED:
                raise FormatError(name, "archive", f"unpacks to more than {MAX_UNPACKED} bytes")
            for info in infos:
                member = info.filename
                clean = posixpath.normpath(member)
                if member.startswith("/") or clean.startswith("..") or "\\" in member or "\x00" in member:
                    raise FormatError(name, member[:200], "is not a relative path inside the archive")
                self._members[clean] = info

    @property
    def is_archive(self) -> bool:
        return self._archive is not None

    def names(self) -> list[str]:
        return sorted(self._members) if self._archive is not None else [self.name]

    def read(self, member: str) -> bytes:
        if self._archive is None:
            if member != self.name:
                raise KeyError(member)
            return self._raw
        info = self._members[member]
        with self._archive.open(info) as handle:
            data = handle.read(info.file_size + 1)
        if len(data) > info.file_size:
            raise FormatError(self.name, member, "unpacks to more than its declared size")
        return data

    def where(self, member: str) -> str:
        """How errors name a member: the archive's name and the member, or the file's name."""
        return f"{self.name}:{member}" if self._archive is not None else self.name
