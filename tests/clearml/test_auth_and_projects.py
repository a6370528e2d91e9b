"""The real ClearML client logs in with an access key and secret, gets a token with the claims it needs,
calls with it, logs in again when it expires, and lists and creates projects under the user's rights; a
revoked pair and a forged token are refused with complete envelopes."""

import base64
import time

import jwt
import pytest
import requests

from clearml_api.credentials import credential_revoke
from hyperdatasets.models import AccessRole
from hyperdatasets.services.projects import project_create, project_rule_set

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_client_logs_in_and_creates_and_lists_projects(clearml, django_user_model):
    other = django_user_model.objects.create_user(username="other", password="x")
    project_create(name="hidden", user=other)
    shared = project_create(name="shared space", user=other)
    project_rule_set(shared, role=AccessRole.READ, user=clearml.user)
    result = clearml("""
        import json
        from clearml.backend_api.session import Session
        from clearml.backend_api.services import projects
        session = Session()
        created = session.send(projects.CreateRequest(name="HD Study", description="from the client"))
        again = session.send(projects.CreateRequest(name="HD Study"))
        found = session.send(projects.GetAllRequest(name="^HD\\\\ Study$", only_fields=["id"]))
        every = session.send(projects.GetAllRequest(page=0, page_size=500))
        empty = session.send(projects.GetAllRequest(page=1, page_size=500))
        print(json.dumps({
            "api_version": Session.api_version, "feature_set": Session.feature_set,
            "created": created.response.id, "again": [again.meta.result_code, again.meta.result_subcode,
                                                      again.meta.result_msg],
            "found": [p.id for p in found.response.projects],
            "names": sorted(p.name for p in every.response.projects), "empty": len(empty.response.projects),
        }))
    """)
    assert result["api_version"] >= "2.23" and result["feature_set"] == "advanced"
    assert result["found"] == [result["created"]] and len(result["created"]) == 32
    assert result["again"][:2] == [400, 701] and "not available" in result["again"][2]
    assert result["names"] == ["HD Study", "shared space"]  # "hidden" is another user's
    assert result["empty"] == 0


def test_tokens_expire_and_revoked_pairs_are_refused(clearml, live_server):
    base = f"{live_server.url}/clearml"
    basic = base64.b64encode(f"{clearml.credential.access_key}:{clearml.secret}".encode()).decode()
    login = requests.get(f"{base}/auth.login?expiration_sec=1", headers={"Authorization": f"Basic {basic}"})
    assert login.status_code == 200
    token = login.json()["data"]["token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["feature_set"] == "advanced" and claims["api_version"] >= "2.23" and claims["exp"]
    assert claims["server_version"] >= "3.25"
    ok = requests.get(f"{base}/v2.23/projects.get_all", headers={"Authorization": f"Bearer {token}"}, json={})
    assert ok.status_code == 200 and ok.json()["meta"]["result_code"] == 200
    time.sleep(2.1)
    expired = requests.get(f"{base}/v2.23/projects.get_all", headers={"Authorization": f"Bearer {token}"})
    meta = expired.json()["meta"]
    assert expired.status_code == 401 and meta["result_code"] == 401 and "expired" in meta["result_msg"]
    assert meta["endpoint"]["name"] == "projects.get_all" and set(meta) >= {"id", "trx", "result_subcode"}

    # The client asks for short tokens when configured to, and logs in again by itself once one has expired.
    result = clearml("""
        import json, time
        from clearml.backend_api.session import Session
        from clearml.backend_api.services import projects
        session = Session()
        first = session.token
        time.sleep(2.2)
        listed = session.send(projects.GetAllRequest())
        print(json.dumps({"ok": listed.ok(), "relogged": session.token != first}))
    """, config_text="api { auth { req_token_expiration_sec: 2 } }")
    assert result == {"ok": True, "relogged": True}

    forged = jwt.encode({**claims, "exp": int(time.time()) + 3600}, "not-the-server-key", algorithm="HS256")
    refused = requests.get(f"{base}/v2.23/projects.get_all", headers={"Authorization": f"Bearer {forged}"})
    assert refused.status_code == 401 and refused.json()["meta"]["result_code"] == 401

    wrong = base64.b64encode(f"{clearml.credential.access_key}:nope".encode()).decode()
    assert requests.get(f"{base}/auth.login", headers={"Authorization": f"Basic {wrong}"}).status_code == 401
    fresh = requests.get(f"{base}/auth.login", headers={"Authorization": f"Basic {basic}"}).json()["data"]["token"]
    credential_revoke(clearml.credential)
    after = requests.get(f"{base}/v2.23/projects.get_all", headers={"Authorization": f"Bearer {fresh}"})
    assert after.status_code == 401 and "revoked" in after.json()["meta"]["result_msg"]
    assert requests.get(f"{base}/auth.login", headers={"Authorization": f"Basic {basic}"}).status_code == 401


def test_bad_calls_get_complete_error_envelopes(clearml, live_server):
    base = f"{live_server.url}/clearml"
    basic = base64.b64encode(f"{clearml.credential.access_key}:{clearml.secret}".encode()).decode()
    token = requests.get(f"{base}/auth.login", headers={"Authorization": f"Basic {basic}"}).json()["data"]["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    for path, kwargs, code in [
        ("/v2.23/no.such_thing", {}, 400),
        ("/v2.23/projects.get_all", {"data": b"[1, 2"}, 400),
        ("/v2.23/projects.get_all", {"json": {"name": "(a+)+$"}}, 400),
        ("/v2.23/projects.get_all", {"json": {"page_size": 10_000}}, 400),
        ("/v2.23/projects.get_by_id", {"json": {"project": "not-an-id"}}, 400),
        ("/v2.23/projects.get_by_id", {"json": {}}, 400),
        ("/v2.23/projects.create", {"json": {"name": ""}}, 400),
    ]:
        response = requests.post(f"{base}{path}", headers=bearer, **kwargs)
        meta = response.json()["meta"]
        assert response.status_code == code == meta["result_code"], (path, response.text)
        assert meta["endpoint"]["name"] and meta["result_msg"] and set(meta) >= {"id", "trx", "result_subcode"}
    assert requests.post(f"{base}/v2.23/projects.get_all").status_code == 401
    vaults = requests.get(f"{base}/users.get_vaults?enabled=true&types=config&types=config", headers=bearer)
    assert vaults.json()["data"]["vaults"] == []
