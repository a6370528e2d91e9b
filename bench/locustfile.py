"""The load leg's users (locust): mixed reads of a 100k-frame version and 5% writes of 10 frames.

Started by bench/load_leg.py, which seeds the data and passes it in the environment: HD_TOKEN, HD_VERSION
(the 100k-frame Published version), HD_DRAFT (a Draft child the writes go to), HD_DATASET, HD_FRAMES.
"""

import os
import random
import uuid

from locust import HttpUser, between, task

TOKEN, VERSION, DRAFT = os.environ["HD_TOKEN"], os.environ["HD_VERSION"], os.environ["HD_DRAFT"]
DATASET, FRAMES = os.environ["HD_DATASET"], int(os.environ["HD_FRAMES"])


def _frame(frame_id: str) -> dict:
    return {"id": frame_id, "sources": [{"id": "default", "uri": f"s3://load-bucket/{frame_id}.jpg", "width": 640,
                                         "height": 480}],
            "rois": [{"label": ["car"], "poly": [1, 1, 9, 1, 9, 9, 1, 9], "meta": {"_type": "b2d"}}],
            "meta": {"camera": "front", "load": True}}


class DatasetUser(HttpUser):
    wait_time = between(0.05, 0.25)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Token {TOKEN}"

    @task(30)
    def first_page(self) -> None:
        self.client.get(f"/api/versions/{VERSION}/frames/?limit=100", name="GET frames page")

    @task(20)
    def page_after(self) -> None:
        # A keyset page further in: the cursor of the page before a random frame (read from its own page).
        page = self.client.get(f"/api/versions/{VERSION}/frames/?limit=20&label=person", name="GET frames by label")
        cursor = page.json().get("next_cursor") if page.ok else None
        if cursor:
            self.client.get(f"/api/versions/{VERSION}/frames/?limit=100&cursor={cursor}", name="GET next page")

    @task(20)
    def one_frame(self) -> None:
        self.client.get(f"/api/versions/{VERSION}/frames/f{random.randrange(FRAMES):08d}/", name="GET one frame")

    @task(10)
    def lookup(self) -> None:
        self.client.get(f"/api/datasets/{DATASET}/current/", name="GET current version")

    @task(10)
    def stats(self) -> None:
        self.client.get(f"/api/versions/{VERSION}/stats/", name="GET version stats")

    @task(5)
    def count(self) -> None:
        self.client.get(f"/api/versions/{VERSION}/frames/count/", name="GET frame count")

    @task(5)
    def write(self) -> None:
        frames = [_frame(f"load-{uuid.uuid4().hex}") for _ in range(10)]
        self.client.post(f"/api/versions/{DRAFT}/frames/", json={"frames": frames}, name="POST 10 frames")
