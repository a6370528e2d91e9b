"""The run command's server (gunicorn with hyperdatasets/gunicorn_conf.py, as scripts/run.sh starts it)
answers while a bulk write is in flight, keeps connections alive, and writes nothing into the tree."""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from rest_framework.authtoken.models import Token

from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from tests.deletion.conftest import _database_url
from tests.factories import frame

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db(transaction=True)


def _untracked() -> set[str]:
    out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True,
                         text=True)
    return set(out.stdout.splitlines()) if out.returncode == 0 else set()


@pytest.fixture
def server(settings, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": _database_url(), "HYPERDATASETS_VAR_DIR": str(tmp_path / "var"),
           "HYPERDATASETS_WORKERS": "2"}
    env.pop("PYTEST_CURRENT_TEST", None)
    process = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c",
                                str(ROOT / "hyperdatasets" / "gunicorn_conf.py"), "--bind", f"127.0.0.1:{port}"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if requests.get(url + "/accounts/login/", timeout=2).status_code == 200:
                break
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still starting its workers
            time.sleep(0.2)
    else:
        process.terminate()
        pytest.fail(f"gunicorn did not start: {process.communicate(timeout=10)[0][-3000:]}")
    yield url
    process.terminate()
    process.wait(timeout=60)


def test_the_server_answers_while_a_bulk_write_runs(server, superuser):
    before = _untracked()
    token = Token.objects.create(user=superuser).key
    head = version_head(dataset_create(dataset_name="busy", user=superuser))
    writer = requests.Session()
    writer.headers["Authorization"] = f"Token {token}"
    body = {"frames": [frame(f"f{i}", labels=[["car"], ["person"]]) for i in range(20_000)]}
    outcome = {}

    def write():
        outcome["response"] = writer.post(f"{server}/api/versions/{head.pk}/frames/", json=body, timeout=300)

    reader = requests.Session()  # one keep-alive connection for every read
    reader.headers["Authorization"] = f"Token {token}"
    thread = threading.Thread(target=write)
    thread.start()
    answered_during_write = 0
    statuses = []
    while thread.is_alive():
        statuses.append(reader.get(f"{server}/api/auth/me/", timeout=30).status_code)
        if thread.is_alive():
            answered_during_write += 1
    thread.join()
    assert outcome["response"].status_code == 200 and outcome["response"].json()["saved"] == 20_000
    assert answered_during_write >= 3 and set(statuses) == {200}
    # POSTs on the same reused connection after the write: none fails.
    posts = [reader.post(f"{server}/api/versions/{head.pk}/frames/", json={"frames": [frame(f"after{i}")]},
                         timeout=30).status_code for i in range(20)]
    assert posts == [200] * 20
    assert reader.get(f"{server}/api/versions/{head.pk}/frames/count/", timeout=30).json()["count"] == 20_020
    assert _untracked() == before  # nothing the server wrote landed in the tree


def test_the_servers_own_refusals_are_json_too(server):
    # Refused by gunicorn itself, before Django: a request line past 8,190 bytes, a header field too large.
    too_long = requests.get(server + "/api/datasets/?name=" + "x" * 9000, timeout=10)
    assert too_long.status_code == 414 and too_long.headers["Content-Type"] == "application/json"
    assert too_long.json()["error"]["code"] == "uri_too_long" and set(too_long.json()["error"]) == {
        "code", "message", "details"}
    header = requests.get(server + "/api/datasets/", headers={"X-Big": "<b>" + "y" * 9000}, timeout=10)
    assert header.status_code in (400, 431) and header.headers["Content-Type"] == "application/json"
    assert header.headers["X-Content-Type-Options"] == "nosniff" and header.json()["error"]["code"]
