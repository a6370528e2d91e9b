"""The rule for the relative path an upload keeps (``raw/cam1/a.jpg``), shared by the server, which refuses
a path outside it, and the SDK, which maps a local path into it before uploading. No Django imports.

A part is 1-200 ASCII letters, digits, '.', '_' and '-' and is not '.' or '..'; parts are joined by '/';
the whole is at most 900 characters. The pattern is the OpenAPI schema's.
"""

from __future__ import annotations

import re

MAX_UPLOAD_PATH_LENGTH = 900
MAX_PART_LENGTH = 200  # file systems hold 255 bytes a name; the rest is room for a collision suffix
_SAFE, _SAFE_NOT_DOT = "[A-Za-z0-9._-]", "[A-Za-z0-9_-]"
# A part that is not "." or "..": it starts with a non-dot, or with one dot and a non-dot, or with two dots
# and anything; MAX_PART_LENGTH characters in all.
_PART = (f"(?:{_SAFE_NOT_DOT}{_SAFE}{{0,{MAX_PART_LENGTH - 1}}}"
         f"|\\.{_SAFE_NOT_DOT}{_SAFE}{{0,{MAX_PART_LENGTH - 2}}}"
         f"|\\.\\.{_SAFE}{{1,{MAX_PART_LENGTH - 2}}})")
UPLOAD_PATH_PATTERN = rf"^{_PART}(?:/{_PART})*$"
_UPLOAD_PATH = re.compile(rf"{_PART}(?:/{_PART})*")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def is_upload_path(path: object) -> bool:
    return isinstance(path, str) and len(path) <= MAX_UPLOAD_PATH_LENGTH and _UPLOAD_PATH.fullmatch(path) is not None


def safe_part(name: str) -> str:
    """A file or folder name within the rule: unsafe runs become '_', leading and trailing '.' and '_' go,
    and a long name keeps its end (where the extension is)."""
    return (_UNSAFE.sub("_", name).strip("._") or "file")[-MAX_PART_LENGTH:]


def safe_upload_path(path: str) -> str:
    """A local relative path (either separator) mapped into the rule, part by part."""
    parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".", "..")]
    return "/".join(safe_part(part) for part in parts)[-MAX_UPLOAD_PATH_LENGTH:].lstrip("/") or "file"
