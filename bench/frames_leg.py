"""One leg of the frame benchmark: one database, one size. Prints a JSON object of figures.

Run by ``bench/run.py``; ``DATABASE_URL`` names a scratch database that this leg migrates and fills.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hyperdatasets.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from hyperdatasets.gc_tuning import tune_collector  # noqa: E402
from hyperdatasets.models import Frame, FrameLabel  # noqa: E402
from hyperdatasets.queries.selection import selection_from  # noqa: E402
from hyperdatasets.selectors.frame_pages import frames_page, frames_query_count  # noqa: E402
from hyperdatasets.selectors.frames import labels_in_frame_rows, versions_diff  # noqa: E402
from hyperdatasets.selectors.versions import version_head  # noqa: E402
from hyperdatasets.services.datasets import dataset_create  # noqa: E402
from hyperdatasets.services.frames import frames_upsert  # noqa: E402
from hyperdatasets.services.versions import version_create, version_publish  # noqa: E402

LABELS = ["car", "person", "bicycle", "truck", "bus", "dog", "cat", "tree", "sign", "light",
          "bench", "bird", "horse", "sheep", "cow", "boat", "train", "kite", "skis", "chair"]
RARE = "unicorn"
BATCH = 10_000


# Query figures (docs/queries.md): a 0.1% query (1% of cities, 10% of frames with a confident ROI), a 50% one,
# and a label rule with a count range (a fifth of the frames hold two extra cars).
SELECTIVE_QUERY = "meta.city:c7 AND rois.confidence:[0.9 TO 1]"
BROAD_QUERY = "meta.camera:front"
COUNT_RULE = [{"label": "car", "count_range": [2, 4]}]


def make_frame(i: int, variant: int = 0) -> dict:
    labels = [LABELS[(i + k + variant) % len(LABELS)] for k in range(1 + i % 3)]
    if i % 1000 == 0:
        labels[0] = RARE
    if i % 5 == 0:
        labels += ["car", "car"]
    confidence = 0.95 if i % 10 == 3 else 0.5 + (i % 7) / 20
    return {
        "id": f"f{i:08d}",
        "context_id": f"seq{i // 1000:05d}",
        "timestamp": i % 1000,
        "sources": [{"id": "default", "uri": f"s3://bench-bucket/images/{i:08d}.jpg", "width": 1920,
                     "height": 1080, "content_type": "image/jpeg"}],
        "rois": [{"label": [label], "poly": [10.0 + k, 20.0, 110.0, 20.0, 110.0, 80.0, 10.0 + k, 80.0],
                  "confidence": confidence, "meta": {"_type": "b2d"}} for k, label in enumerate(labels)],
        "meta": {"camera": "front" if i % 2 else "rear", "idx": i, "variant": variant, "city": f"c{(i // 10) % 100}"},
    }


class RssPeak:
    """Samples this process's resident memory while a block runs."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()

    @staticmethod
    def current() -> int:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.current())
            time.sleep(0.02)

    def __enter__(self):
        self.before = self.current()
        self.peak = self.before
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.current())


def timed(fn, repeat: int = 1) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def batches(frames_iter, size: int = BATCH):
    batch = []
    for frame in frames_iter:
        batch.append(frame)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def baseline_copy(n: int) -> float:
    """The same frame documents written raw into a bare table (id, frame id, document).

    PostgreSQL: psycopg's ``cursor.copy`` with ``write_row((id, key, Jsonb(doc)))``, the peer baseline of
    shared/notes/frame-storage-and-throughput.md section 2.1. SQLite: ``executemany`` into the same table.
    Frames are generated a batch at a time outside the timed part, as in ``ingest``.
    """
    from psycopg.types.json import Jsonb

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw")
        doc_type = "jsonb" if connection.vendor == "postgresql" else "text"
        cursor.execute(f"CREATE TABLE bench_raw (id bigint PRIMARY KEY, frame_id varchar(255), doc {doc_type})")
    elapsed = 0.0
    with connection.cursor() as cursor:
        for offset, batch in zip(range(0, n, BATCH), batches(make_frame(i) for i in range(n)), strict=True):
            start = time.perf_counter()
            if connection.vendor == "postgresql":
                with cursor.cursor.copy("COPY bench_raw (id, frame_id, doc) FROM STDIN") as copy:
                    for i, frame in enumerate(batch, offset):
                        copy.write_row((i, frame["id"], Jsonb(frame)))
            else:
                rows = [(i, frame["id"], orjson.dumps(frame).decode()) for i, frame in enumerate(batch, offset)]
                cursor.executemany("INSERT INTO bench_raw (id, frame_id, doc) VALUES (%s, %s, %s)", rows)
            elapsed += time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_raw")
    return elapsed


def ingest(version, frames_iter) -> float:
    """Seconds spent in ``frames_upsert`` over 10k-frame batches (built outside the timed part, as a request
    body is parsed before the service runs)."""
    elapsed = 0.0
    for batch in batches(frames_iter):
        start = time.perf_counter()
        assert not frames_upsert(version, batch).failures
        elapsed += time.perf_counter() - start
    return elapsed


def analyze() -> None:
    """What autovacuum does after a bulk load (and the PostgreSQL manual advises): fresh planner statistics
    and a visibility map, so the measured plans are the steady-state ones."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE hyperdatasets_frame")
            cursor.execute("VACUUM ANALYZE hyperdatasets_framelabel")
            cursor.execute("ANALYZE hyperdatasets_datasetversion")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def child_creation_ms(dataset, parent, count: int = 25) -> list[float]:
    times = []
    for k in range(count):
        start = time.perf_counter()
        version_create(dataset, version_name=f"child-{k}", parent_version_names=[parent.name])
        times.append((time.perf_counter() - start) * 1000)
    return times


def first_page_ms(version, repeat: int = 30, **filters) -> float:
    frames_page(version, limit=100, **filters)  # warm
    return statistics.median(t * 1000 for t in timed(lambda: frames_page(version, limit=100, **filters), repeat))


def query_figures(version) -> dict:
    """First pages and counts of the query language on ``version`` (docs/queries.md)."""
    def selection(**fields):
        return selection_from([version.dataset_id], fields)

    figures = {
        "query_selective_ms": first_page_ms(version, selection=selection(query=SELECTIVE_QUERY)),
        "query_broad_ms": first_page_ms(version, selection=selection(query=BROAD_QUERY)),
        "query_count_rule_ms": first_page_ms(version, selection=selection(label_rules=COUNT_RULE)),
        "query_selective_matches": frames_query_count(version, selection(query=SELECTIVE_QUERY)),
    }
    broad, every = selection(query=BROAD_QUERY), selection(query="*")
    frames_query_count(version, broad)  # warm
    figures["query_broad_count_ms"] = statistics.median(
        t * 1000 for t in timed(lambda: frames_query_count(version, broad), 5))
    figures["query_all_count_ms"] = statistics.median(
        t * 1000 for t in timed(lambda: frames_query_count(version, every), 5))
    figures["query_count_ratio"] = figures["query_broad_count_ms"] / figures["query_all_count_ms"]
    return figures


def sdk_figures(n: int, root_version_id) -> dict:
    """Ingest N frames through the SDK and the REST API of a real server process, and iterate the root
    version through the SDK while sampling the client's memory."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from bench.serving import run_command_server
    from hyperdatasets import sdk

    with run_command_server() as url:
        user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_superuser": True})
        token, _ = Token.objects.get_or_create(user=user)
        sdk.configure(url=url, token=token.key)
        version = sdk.DatasetVersion.create_new_dataset(dataset_name=f"bench-sdk-{time.time_ns()}")
        sdk_ingest_s = 0.0
        for batch in batches(make_frame(i) for i in range(n)):
            start = time.perf_counter()
            failed = version.add_frames(batch)
            sdk_ingest_s += time.perf_counter() - start
            assert not failed
        reader = sdk.DatasetVersion({"id": str(root_version_id), "dataset_id": None, "name": "root",
                                     "status": "published", "parent_ids": [], "comment": ""})
        with RssPeak() as rss:
            start = time.perf_counter()
            count = sum(1 for _ in reader.iterate_frames(page_size=1000))
            iterate_s = time.perf_counter() - start
        return {"sdk_ingest_s": sdk_ingest_s, "sdk_iterated": count, "sdk_iterate_s": iterate_s,
                "sdk_iterate_rss_growth_mb": (rss.peak - rss.before) / 2**20}


def run(n: int, depth: int) -> dict:
    call_command("migrate", verbosity=0)
    tune_collector()  # as every server and worker process does once it has started
    results: dict = {"frames": n, "vendor": connection.vendor, "depth": depth}

    results["baseline_copy_s"] = baseline_copy(n)

    dataset = dataset_create(dataset_name=f"bench-{n}-{time.time_ns()}")
    root = version_head(dataset)
    with RssPeak() as rss:
        results["service_ingest_s"] = ingest(root, (make_frame(i) for i in range(n)))
    results["ingest_rss_peak_mb"] = rss.peak / 2**20
    results["ingest_ratio"] = results["baseline_copy_s"] / results["service_ingest_s"]
    results["ingest_frames_per_s"] = n / results["service_ingest_s"]

    small = dataset_create(dataset_name=f"bench-small-{time.time_ns()}")
    small_root = version_head(small)
    ingest(small_root, (make_frame(i) for i in range(1000)))
    analyze()
    small_root = version_publish(small_root)
    root = version_publish(root)
    small_ms = statistics.median(child_creation_ms(small, small_root))
    big_ms = statistics.median(child_creation_ms(dataset, root))
    results.update(child_create_1k_ms=small_ms, child_create_n_ms=big_ms, child_create_ratio=big_ms / small_ms)

    changed = max(1, n // 100)
    current = root
    for level in range(1, depth + 1):
        child = version_create(dataset, version_name=f"level-{level}", parent_version_names=[current.name])
        start = (level * 7919 * changed) % n
        ingest(child, (make_frame((start + k) % n, variant=level) for k in range(changed)))
        if level == 1:
            own_rows = Frame.objects.filter(version=child).count()
            results["storage_child_rows"] = own_rows
            results["storage_child_ratio"] = own_rows / n
            if not labels_in_frame_rows():  # PostgreSQL indexes the frame rows' labels instead
                results["storage_child_label_rows"] = FrameLabel.objects.filter(version=child).count()
        current = version_publish(child)
    deep = current

    flat_dataset = dataset_create(dataset_name=f"bench-flat-{time.time_ns()}")
    flat = version_head(flat_dataset)

    def resolved_frames():
        cursor = None
        while True:
            page = frames_page(deep, cursor=cursor, limit=1000)
            for frame in page.frames:
                frame.pop("saved"), frame.pop("saved_in_version")
                yield frame
            cursor = page.next_cursor
            if cursor is None:
                return

    with RssPeak() as rss:
        ingest(flat, resolved_frames())
    results["page_all_rss_growth_mb"] = (rss.peak - rss.before) / 2**20
    analyze()
    results["deep_first_page_ms"] = first_page_ms(deep)
    results["flat_first_page_ms"] = first_page_ms(flat)
    results["deep_page_ratio"] = results["deep_first_page_ms"] / results["flat_first_page_ms"]
    results["rare_label_root_ms"] = first_page_ms(root, label=RARE)
    results["rare_label_deep_ms"] = first_page_ms(deep, label=RARE)
    results["common_label_deep_ms"] = first_page_ms(deep, label="car")
    results.update(query_figures(deep))

    with RssPeak() as rss:
        start = time.perf_counter()
        changes = sum(1 for _ in versions_diff(root, deep))
        results["diff_s"] = time.perf_counter() - start
    results["diff_changes"] = changes
    results["diff_rss_growth_mb"] = (rss.peak - rss.before) / 2**20
    results["rss_max_mb"] = RssPeak.current() / 2**20
    results.update(sdk_figures(n, root.pk))
    results["sdk_ingest_ratio"] = results["baseline_copy_s"] / results["sdk_ingest_s"]
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, required=True)
    parser.add_argument("--depth", type=int, default=50)
    args = parser.parse_args()
    print(orjson.dumps(run(args.frames, args.depth)).decode())
