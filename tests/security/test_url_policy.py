"""Every URL pattern of the site, walked for every role, against the policy table of docs/security.md.

The API's endpoints are checked method by method in tests/api/test_permission_matrix.py (its MATRIX); the
pages and the admin site are checked here. A URL pattern in none of the tables fails the walk, so a new page
or endpoint cannot ship without a row in the policy.
"""

from __future__ import annotations

import io
import re
from enum import Enum

import pytest
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from PIL import Image
from rest_framework.authtoken.models import Token

from annotations.models import FrameEdit
from annotations.services import frame_save
from clearml_api.credentials import credential_create
from dataviews.exports import export_create
from dataviews.services import dataview_create
from hyperdatasets.models import StorageCredential, StorageLocation
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create, dataset_delete
from hyperdatasets.services.frames import frames_upsert
from hyperdatasets.services.uploads import upload_store
from hyperdatasets.services.versions import version_create, version_publish
from hyperdatasets.storage.serving import FileLinks
from tests.api.conftest import ROLES
from tests.api.test_permission_matrix import MATRIX
from tests.factories import frame
from webui.dataset_actions import ACTIONS
from webui.dataview_pages import PAGE_ACTIONS

pytestmark = pytest.mark.django_db


class Need(Enum):
    PUBLIC = "public"
    SIGNED_IN = "signed in"
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"
    LINK_OWNER = "the user the link was made for"


GRANTED = {
    "anonymous": {Need.PUBLIC},
    "outsider": {Need.PUBLIC, Need.SIGNED_IN},
    "read": {Need.PUBLIC, Need.SIGNED_IN, Need.READ},
    "write": {Need.PUBLIC, Need.SIGNED_IN, Need.READ, Need.WRITE},
    "admin": {Need.PUBLIC, Need.SIGNED_IN, Need.READ, Need.WRITE, Need.ADMIN},
    "staff": {Need.PUBLIC, Need.SIGNED_IN},  # staff rights are the admin site's, not a project role
    "superuser": set(Need) - {Need.LINK_OWNER},
}
USERNAMES = {"outsider": "outsider", "read": "reader", "write": "writer", "admin": "admin", "staff": "staff",
             "superuser": "root"}

# The pages: (url name, method, what the action is, for dataset-action): least role.
PAGES = {
    ("webui:login", "GET", None): Need.PUBLIC,
    ("webui:logout", "POST", None): Need.PUBLIC,
    ("webui:dataset-index", "GET", None): Need.SIGNED_IN,
    ("webui:account", "GET", None): Need.SIGNED_IN,
    ("webui:account", "POST", None): Need.SIGNED_IN,
    ("webui:clearml-credentials", "POST", None): Need.SIGNED_IN,
    ("webui:project-index", "GET", None): Need.SIGNED_IN,
    ("webui:dataset-new", "POST", None): Need.SIGNED_IN,
    ("webui:deletion-jobs", "GET", None): Need.SIGNED_IN,
    ("webui:dataset-detail", "GET", None): Need.READ,
    ("webui:version-detail", "GET", None): Need.READ,
    ("webui:frame-detail", "GET", None): Need.READ,
    ("webui:annotation-import", "POST", None): Need.WRITE,
    ("webui:annotation-export", "POST", None): Need.READ,
    ("webui:deletion-job", "GET", None): Need.READ,
    ("webui:file", "GET", None): Need.LINK_OWNER,
    ("webui:dataset-action", "POST", "snapshot"): Need.WRITE,
    ("webui:dataset-action", "POST", "child"): Need.WRITE,
    ("webui:dataset-action", "POST", "publish"): Need.WRITE,
    ("webui:dataset-action", "POST", "delete-version"): Need.WRITE,
    ("webui:dataset-action", "POST", "edit"): Need.WRITE,
    ("webui:dataset-action", "POST", "move"): Need.ADMIN,
    ("webui:dataset-delete", "POST", None): Need.ADMIN,
    ("webui:dataview-index", "GET", None): Need.SIGNED_IN,
    ("webui:dataview-new", "POST", None): Need.SIGNED_IN,
    ("webui:dataview-detail", "GET", None): Need.READ,
    ("webui:dataview-preview", "GET", None): Need.READ,
    ("webui:dataview-action", "POST", "archive"): Need.WRITE,
    ("webui:dataview-action", "POST", "restore"): Need.WRITE,
    ("webui:dataview-action", "POST", "publish"): Need.WRITE,
    ("webui:dataview-action", "POST", "clone"): Need.READ,
    ("webui:dataview-action", "POST", "move"): Need.WRITE,
    ("webui:dataview-action", "POST", "delete"): Need.WRITE,
}

# The admin site: staff only. Models any staff member may open (their rows scoped by project roles), models
# for superusers only, and models written only by the services (listed, never added or edited here).
ADMIN_SCOPED = {"hyperdatasets_project", "hyperdatasets_dataset", "hyperdatasets_datasetversion",
                "hyperdatasets_deletionjob", "annotations_frameedit", "dataviews_dataview",
                "dataviews_dataviewexport"}
ADMIN_SUPERUSER_ONLY = {"hyperdatasets_storagecredential", "hyperdatasets_storagelocation", "auth_user",
                        "clearml_api_apicredential",
                        "auth_group", "authtoken_tokenproxy"}
ADMIN_READ_ONLY = {"hyperdatasets_deletionjob", "annotations_frameedit", "dataviews_dataview",
                   "dataviews_dataviewexport", "clearml_api_apicredential"}
# ClearML's wire face: every endpoint but auth.login needs a Bearer token (tests/clearml, and
# test_clearml_calls_need_a_token below); a credential's revoke page is its owner's alone (tested below); the
# files host takes a token or a session and the rights on the dataset a path names
# (tests/clearml/test_rights_and_errors.py).
CLEARML_ROUTES = {"clearml-call", "clearml-call-unversioned", "webui:clearml-credential-revoke",
                  "clearml-files-upload", "clearml-files-upload-slash", "clearml-files"}
ADMIN_SITE = {"admin:index", "admin:login", "admin:logout", "admin:password_change", "admin:password_change_done",
              "admin:autocomplete", "admin:jsi18n", "admin:view_on_site", "admin:app_list"}


def _walk(patterns, prefix="", namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace)
        else:
            assert isinstance(pattern, URLPattern)
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield prefix + str(pattern.pattern), name


def _admin_model(name: str) -> tuple[str, str] | None:
    match = re.match(r"admin:(\w+?)_(changelist|add|history|delete|change|password_change)$", name or "")
    return (match.group(1), match.group(2)) if match else None


def test_every_url_pattern_is_in_the_policy():
    api_names = {name for name, _method in MATRIX}
    page_names = {name for name, _method, _action in PAGES}
    unclassified = []
    for route, name in _walk(get_resolver().url_patterns):
        if name in api_names or name in page_names or name in ADMIN_SITE or name in CLEARML_ROUTES:
            continue
        model = _admin_model(name)
        if model and model[0] in ADMIN_SCOPED | ADMIN_SUPERUSER_ONLY:
            continue
        if name is None and route.startswith("admin/"):
            continue  # the admin's own redirects (object id -> change) and its catch-all: staff only
        unclassified.append((route, name))
    assert unclassified == []
    assert {a for (n, _m, a) in PAGES if n == "webui:dataset-action"} == set(ACTIONS)
    assert {a for (n, _m, a) in PAGES if n == "webui:dataview-action"} == set(PAGE_ACTIONS)


def test_the_policy_table_is_documented():
    from pathlib import Path

    text = Path(__file__).resolve().parents[2].joinpath("docs/security.md").read_text()
    for (name, method, action), need in PAGES.items():
        row = f"| `{name}`{f' `{action}`' if action else ''} | {method} | {need.value} |"
        assert row in text, row
    for (name, method), (need, _suffix, _body) in MATRIX.items():
        row = f"| `{name}` | {method} | {need.value} |"
        assert row in text, row


def _png():
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def site(people, dataset, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    head = version_head(dataset)
    upload = upload_store(dataset, kind="source", filename="a.png", fileobj=io.BytesIO(_png()), size=70)
    frames_upsert(head, [frame("a", uri=upload.uri)])
    frame_save(head, "a", frame("a", uri=upload.uri, labels=[["car"]]), if_match=None, user=people["owner"])
    version_publish(version_create(dataset, version_name="pub"))
    gone = dataset_create(dataset_name="gone", dataset_project="vision", user=people["owner"])
    frames_upsert(version_head(gone), [frame("g", uri="s3://nowhere/g.jpg")])
    job = dataset_delete(gone, delete_all_versions=True, delete_sources=True, user=people["owner"])
    view = dataview_create(name="training", project_name="vision",
                           versions=[{"dataset_id": str(dataset.pk), "version_id": str(head.pk)}], user=people["owner"])
    link = FileLinks(people["reader"], dataset).url(upload.uri)
    assert link and link.startswith("/files/")
    objects = {
        "hyperdatasets_project": people["project"].pk, "hyperdatasets_dataset": dataset.pk,
        "hyperdatasets_datasetversion": head.pk, "hyperdatasets_deletionjob": job.pk,
        "hyperdatasets_storagecredential": StorageCredential.objects.create(provider="s3", bucket="b").pk,
        "clearml_api_apicredential": credential_create(people["reader"], "policy")[0].pk,
        "hyperdatasets_storagelocation": StorageLocation.objects.create(provider="s3", location="b").pk,
        "annotations_frameedit": FrameEdit.objects.get().pk, "auth_user": people["reader"].pk,
        "auth_group": Group.objects.create(name="team").pk,
        "dataviews_dataview": view.pk,
        "dataviews_dataviewexport": export_create(view, user=people["owner"]).pk,
        "authtoken_tokenproxy": Token.objects.create(user=people["reader"]).user_id,  # a token's admin id
    }
    return {"dataset": dataset, "head": head, "job": job, "link": link, "objects": objects}


def _client_for(role, client, people):
    if role != "anonymous":
        client.force_login(people[USERNAMES[role]] if role != "superuser" else people["superuser"])
    return client


def _page_path(name, site):
    kwargs = {"webui:dataset-detail": {"dataset_id": site["dataset"].pk},
              "webui:dataset-delete": {"dataset_id": site["dataset"].pk},
              "webui:version-detail": {"version_id": site["head"].pk},
              "webui:frame-detail": {"version_id": site["head"].pk, "frame_id": "a"},
              "webui:annotation-import": {"version_id": site["head"].pk},
              "webui:annotation-export": {"version_id": site["head"].pk},
              "webui:deletion-job": {"job_id": site["job"].pk},
              "webui:dataview-detail": {"dataview_id": site["objects"]["dataviews_dataview"]},
              "webui:dataview-preview": {"dataview_id": site["objects"]["dataviews_dataview"]}}.get(name, {})
    return reverse(name, kwargs=kwargs)


PAGE_BODIES = {"snapshot": {}, "child": {"version_name": "c2", "parent": ""}, "publish": {"version": ""},
               "delete-version": {"version": ""}, "edit": {"name": "cars", "tags": "t1"}, "move": {"project": ""},
               "clone": {"name": "copy", "project": ""}}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", sorted(PAGES, key=str), ids=lambda p: f"{p[1]} {p[0]} {p[2] or ''}".strip())
def test_page_policy(page, role, client, people, site):
    name, method, action = page
    need = PAGES[page]
    client = _client_for(role, client, people)
    if name == "webui:file":
        path = site["link"]  # made for the reader
        granted = role == "read"
    elif name == "webui:dataset-action":
        path = reverse(name, kwargs={"dataset_id": site["dataset"].pk, "action": action})
        granted = need in GRANTED[role]
    elif name == "webui:dataview-action":
        path = reverse(name, kwargs={"dataview_id": site["objects"]["dataviews_dataview"], "action": action})
        granted = need in GRANTED[role]
    else:
        path = _page_path(name, site)
        granted = need in GRANTED[role]
    body = PAGE_BODIES.get(action, {"confirm_name": "cars"} if name == "webui:dataset-delete" else {})
    if name == "webui:dataview-new":
        body = {"name": "new-view"}
    if name == "webui:annotation-export":
        body = {"format": "coco"}
    if name == "webui:dataview-action" and action == "move":
        body = {"project": "vision"}
    response = client.get(path) if method == "GET" else client.post(path, body)
    status = response.status_code
    assert status < 500, status
    if role == "anonymous" and need is not Need.PUBLIC:
        assert status == 302 and response["Location"].startswith(reverse("webui:login")), status
        return
    followed = client.get(response["Location"]) if status == 302 and method == "POST" else response
    refused_here = status != 404 and method == "POST" and re.search(
        rb'class="error" role="status" data-testid="message">[^<]*needs the', followed.content) is not None
    if granted:
        assert status not in (403, 404) and not refused_here, (status, followed.content[:300])
    elif role in ("outsider", "staff") or need in (Need.READ, Need.LINK_OWNER):
        assert status == 404, status  # not visible to them: not found, never forbidden
    else:
        assert refused_here, (status, followed.content[:300])


def _admin_expected(role: str, model: str | None, view: str | None, name: str) -> set[int]:
    """The statuses a GET of an admin URL may answer for a role."""
    if name == "admin:login":
        return {200, 302}
    if role not in ("staff", "superuser"):
        return {302}  # to the admin's sign-in
    if name == "admin:logout":
        return {405}  # POST only
    if name in ("admin:autocomplete", "admin:view_on_site"):
        return {403, 404, 302}  # need parameters: refused either way
    if model is None:
        return {200} if name in ADMIN_SITE else {302, 404}
    if model in ADMIN_SUPERUSER_ONLY and role == "staff":
        return {403}
    if view in ("add",) and model in ADMIN_READ_ONLY:
        return {403}
    if view == "delete" and model in ADMIN_READ_ONLY:
        return {403}
    if role == "staff" and view in ("change", "delete", "history", "password_change"):
        return {302}  # the object is in a project staff holds no rule on: "does not exist" -> index
    return {200}


def _admin_urls(site):
    for route, name in _walk(get_resolver().url_patterns):
        if not route.startswith("admin/") or name is None:
            continue
        found = None if name in ADMIN_SITE else _admin_model(name)
        if found:
            model, view = found
            pk = site["objects"][model]
            kwargs = {} if view in ("changelist", "add") else (
                {"id": pk} if view == "password_change" else {"object_id": pk})
            yield name, model, view, reverse(name, kwargs=kwargs)
        elif name == "admin:app_list":
            yield name, None, None, reverse(name, kwargs={"app_label": "hyperdatasets"})
        elif name == "admin:view_on_site":
            yield name, None, None, reverse(name, kwargs={"content_type_id": 1, "object_id": 1})
        else:
            yield name, None, None, reverse(name)
    yield "catch-all", None, None, "/admin/no-such-page/"


@pytest.mark.parametrize("role", ROLES)
def test_admin_policy(role, client, people, site):
    client = _client_for(role, client, people)
    wrong = []
    for name, model, view, path in _admin_urls(site):
        status = client.get(path).status_code
        if status not in _admin_expected(role, model, view, name):
            wrong.append((path, status))
    assert wrong == []


@pytest.mark.parametrize("path", ["/clearml/v2.23/projects.get_all", "/clearml/projects.create",
                                  "/clearml/v2.23/users.get_vaults", "/clearml/v2.23/no.such"])
def test_clearml_calls_need_a_token(client, path, people):
    client.force_login(people["reader"])  # a page session is not a ClearML token
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code in (400, 401) and response.json()["meta"]["result_code"] in (400, 401)
        assert "data" in response.json() and response.json()["data"] == {}


def test_a_credential_is_revoked_by_its_owner_only(client, people):
    credential, _secret = credential_create(people["reader"], "mine")
    path = reverse("webui:clearml-credential-revoke", kwargs={"credential_id": credential.pk})
    assert client.post(path).status_code == 302 and client.post(path)["Location"].startswith(reverse("webui:login"))
    for other in ("writer", "admin", "outsider"):
        client.force_login(people[other])
        assert client.post(path).status_code == 404
    credential.refresh_from_db()
    assert credential.revoked is None
    client.force_login(people["reader"])
    assert client.get(path).status_code == 405
    assert client.post(path).status_code == 302
    credential.refresh_from_db()
    assert credential.revoked is not None
