"""The endpoints, each on this project's services and selectors under the caller's rights."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from clearml_api.credentials import BAD_CREDENTIALS_MESSAGE, credential_check, token_issue
from clearml_api.endpoints import Call, endpoint
from clearml_api.envelope import BAD_CREDENTIALS, INVALID_ID, ApiError
from clearml_api.ids import parse_id, wire_id
from clearml_api.names import filter_by_name
from hyperdatasets.access import visible_projects
from hyperdatasets.services.projects import project_create

MAX_PAGE_SIZE = 500


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# --- auth and users ---------------------------------------------------------------------------------------


@endpoint("auth.login", public=True)
def auth_login(call: Call) -> dict[str, Any]:
    scheme, _, encoded = call.request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic":
        raise ApiError(401, "Unauthorized (auth.login takes HTTP Basic: access key and secret key)", BAD_CREDENTIALS)
    try:
        access_key, _, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(401, BAD_CREDENTIALS_MESSAGE, BAD_CREDENTIALS) from None
    credential = credential_check(access_key, secret)
    if credential is None:
        raise ApiError(401, BAD_CREDENTIALS_MESSAGE, BAD_CREDENTIALS)
    return {"token": token_issue(credential, call.integer("expiration_sec", None, 1, 2**31))}


@endpoint("users.get_vaults")
def users_get_vaults(call: Call) -> dict[str, Any]:
    return {"vaults": [], "total": 0}  # no configuration vaults are kept here


# --- projects ---------------------------------------------------------------------------------------------


def _project_out(project, only: list[str] | None) -> dict[str, Any]:
    out = {"id": wire_id(project.pk), "name": project.name, "basename": project.name.rsplit("/", 1)[-1],
           "description": project.description, "created": _iso(project.created),
           "user": str(project.created_by_id or ""), "company": "",
           "tags": [], "system_tags": []}
    return {key: value for key, value in out.items() if key in only or key == "id"} if only else out


def _page(call: Call, rows) -> list:
    page = call.integer("page", None, 0, 10**6)
    size = call.integer("page_size", None, 1, MAX_PAGE_SIZE) or (MAX_PAGE_SIZE if page is not None else None)
    rows = list(rows) if not isinstance(rows, list) else rows
    if page is None and size is None:
        return rows
    return rows[(page or 0) * size:(page or 0) * size + size]


@endpoint("projects.get_all")
def projects_get_all(call: Call) -> dict[str, Any]:
    projects = visible_projects(call.user).order_by("name", "id")
    ids = call.strings("id")
    if ids is not None:
        projects = projects.filter(pk__in=[parse_id("id", i) for i in ids])
    projects = filter_by_name(projects, call.get("name"))
    only = call.strings("only_fields")
    return {"projects": [_project_out(p, only) for p in _page(call, projects)]}


def _visible_project(call: Call):
    """The project ``call.body["project"]`` names among the caller's visible ones, else 400 (invalid id)."""
    project = visible_projects(call.user).filter(pk=parse_id("project", call.body["project"])).first()
    if project is None:
        raise ApiError(400, f"Invalid project id: id={call.body['project']}", INVALID_ID)
    return project


def project_name_of(call: Call) -> str | None:
    """The name of the project a create call names (none: outside projects)."""
    return _visible_project(call).name if call.get("project") is not None else None


@endpoint("projects.get_by_id")
def projects_get_by_id(call: Call) -> dict[str, Any]:
    call.required("project")
    return {"project": _project_out(_visible_project(call), None)}


@endpoint("projects.create")
def projects_create(call: Call) -> dict[str, Any]:
    name = call.required("name")
    if not isinstance(name, str):
        raise ApiError(400, "name: must be a string", 112)
    description = call.get("description", "")
    project = project_create(name=name, description=description if isinstance(description, str) else "",
                             user=call.user, raise_if_exists=True)
    return {"id": wire_id(project.pk)}
