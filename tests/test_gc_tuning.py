import gc
import subprocess
import sys
import threading
from pathlib import Path

import orjson
import pytest

from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_upsert
from tests.factories import frame

ROOT = Path(__file__).resolve().parent.parent


def test_a_started_process_has_its_heap_frozen_and_a_larger_young_threshold():
    probe = ("import gc, hyperdatasets.wsgi\n"
             "from hyperdatasets.gc_tuning import YOUNG_THRESHOLD\n"
             "print(gc.get_freeze_count() > 10_000, gc.get_threshold()[0] == YOUNG_THRESHOLD, gc.isenabled())")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "True"]


@pytest.mark.django_db(transaction=True)
def test_bulk_writes_never_switch_the_collector(monkeypatch, client, superuser):
    switched = []
    monkeypatch.setattr(gc, "disable", lambda: switched.append("disable"))
    monkeypatch.setattr(gc, "freeze", lambda: switched.append("freeze"))
    dataset = dataset_create(dataset_name="gc")
    head = version_head(dataset)
    seen_enabled = []
    writer = threading.Thread(target=lambda: frames_upsert(head, [frame(f"f{i}") for i in range(2000)]))
    writer.start()
    while writer.is_alive():
        seen_enabled.append(gc.isenabled())
    writer.join()
    client.force_login(superuser)
    response = client.post(f"/api/versions/{head.pk}/frames/", {"frames": [frame("api")]},
                           content_type="application/json")
    assert response.status_code == 200
    assert switched == [] and all(seen_enabled)


@pytest.mark.django_db
def test_a_bulk_writes_parsed_frames_go_when_its_request_ends(client, superuser):
    """DRF's request, view and response refer to one another; the parsed body must not wait for the cyclic
    collector with them (it would reach the oldest generation and pile up there, batch after batch)."""
    client.force_login(superuser)
    url = f"/api/versions/{version_head(dataset_create(dataset_name='refs')).pk}/frames/"

    def body(prefix: str) -> bytes:
        return orjson.dumps({"frames": [frame(f"{prefix}{i}", labels=[["car"], ["person"]]) for i in range(2000)]})

    assert client.post(url, body("warm-"), content_type="application/json").status_code == 200  # first-use caches
    payload = body("f")
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        response = client.post(url, payload, content_type="application/json")
        after = len(gc.get_objects())
    finally:
        gc.enable()
    assert response.status_code == 200 and response.json()["saved"] == 2000
    assert after - before < 2000  # the parsed frames alone are over 20,000 tracked objects
