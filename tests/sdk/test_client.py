"""The SDK client on its own: configuration, retries and error mapping, against a real local HTTP server."""

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from hyperdatasets import sdk
from hyperdatasets.sdk.client import _Client


class _Flaky(BaseHTTPRequestHandler):
    """Answers 503 (Retry-After: 0) to the first `fail` requests of each method, then 200."""

    calls: dict[str, int] = {}
    fail = 2

    def _answer(self):
        count = self.calls[self.command] = self.calls.get(self.command, 0) + 1
        if count <= self.fail:
            self.send_response(503)
            self.send_header("Retry-After", "0")
            body = json.dumps({"error": {"code": "unavailable", "message": "busy", "details": {}}}).encode()
        else:
            self.send_response(200)
            body = json.dumps({"ok": count}).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky_server():
    _Flaky.calls = {}
    server = HTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sdk.configure(url=f"http://127.0.0.1:{server.server_port}", token="t")
    _Client.get().backoff = 0.01
    yield server
    server.shutdown()
    sdk.configure(url=None, token=None)


def test_idempotent_calls_retry_on_503(flaky_server):
    assert _Client.get().get_json("/anything") == {"ok": 3}
    assert _Flaky.calls["GET"] == 3


def test_post_is_not_retried(flaky_server):
    with pytest.raises(sdk.ServerError, match="busy"):
        _Client.get().send_json("POST", "/anything", {})
    assert _Flaky.calls["POST"] == 1


def test_connection_errors_retry_then_raise():
    sdk.configure(url="http://127.0.0.1:9", token="t")  # discard port: nothing listens
    _Client.get().backoff = 0.01
    try:
        with pytest.raises(sdk.ServerError, match="cannot reach"):
            _Client.get().get_json("/x")
    finally:
        sdk.configure(url=None, token=None)


def test_config_file_and_environment(tmp_path, monkeypatch):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"url": "http://from-file:1", "token": "file-token"}))
    monkeypatch.setenv("HYPERDATASETS_CONFIG", str(config))
    monkeypatch.delenv("HYPERDATASETS_API_URL", raising=False)
    monkeypatch.delenv("HYPERDATASETS_API_TOKEN", raising=False)
    sdk.configure(url=None, token=None)
    client = _Client.get()
    assert client.url == "http://from-file:1" and client.session.headers["Authorization"] == "Token file-token"
    monkeypatch.setenv("HYPERDATASETS_API_URL", "http://from-env:2")
    sdk.configure(url=None, token=None)
    assert _Client.get().url == "http://from-env:2"
    sdk.configure(url="http://explicit:3", token="x")
    assert _Client.get().url == "http://explicit:3"
    sdk.configure(url=None, token=None)


def test_batches_split_by_count_and_size():
    import orjson

    from hyperdatasets.sdk import datasets as sdk_datasets

    encoded = [orjson.dumps({"id": str(i), "meta": {"blob": "x" * 100}}) for i in range(25)]
    assert [len(b) for b in sdk.DatasetVersion._batches(encoded, batch_size=10)] == [10, 10, 5]
    original = sdk_datasets.MAX_BATCH_BYTES
    sdk_datasets.MAX_BATCH_BYTES = 1000
    try:
        batches = list(sdk.DatasetVersion._batches(encoded, batch_size=10_000))
    finally:
        sdk_datasets.MAX_BATCH_BYTES = original
    assert [i for batch in batches for i in batch] == list(range(25)) and len(batches) > 1
    assert all(len(b",".join(encoded[i] for i in batch)) <= 1000 for batch in batches)


def test_frames_that_are_not_json_are_refused_before_anything_is_sent():
    version = sdk.DatasetVersion({"id": "v", "dataset_id": "d", "name": "n", "status": "draft", "parent_ids": [],
                                  "comment": ""})
    with pytest.raises(ValueError, match="frame 1 cannot be sent as JSON"):
        version.add_frames([{"id": "a"}, {"id": "b", "meta": {"when": object()}}])


def test_sdk_import_needs_no_django_settings():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = ("import sys; from hyperdatasets.sdk import Dataset, DatasetVersion, SingleFrame, FrameGroup; "
            "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')) or 'ok')")
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"  # the SDK imports no Django module at all
