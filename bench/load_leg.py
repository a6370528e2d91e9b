"""The load leg, one command: ``python bench/load_leg.py`` (from the repository root, after install).

Seeds a scratch PostgreSQL database with a Published 100k-frame version (and a Draft child for the writes),
serves it with the run command's own server (gunicorn, hyperdatasets/gunicorn_conf.py) on a free loopback
port, and runs locust headless with 50 users for a fixed time: mixed reads and 5% writes of 10 frames
(bench/locustfile.py). Writes per-endpoint p50/p95/p99, failures and the server workers' memory to the
"Load" section of docs/benchmarks.md. Bounded: loopback only, a fixed number of users, a fixed time.
"""

from __future__ import annotations

import argparse
import csv
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import LOAD_HEADING, replace_section  # noqa: E402 - the page's section this leg owns
from tests.deletion.servers import wait_for_port  # noqa: E402

PG_ADMIN = os.environ.get("BENCH_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE = "hyperdatasets_bench_load"
READ_P99_TARGET_MS, RSS_TARGET_MB = 300, 300


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class WorkerMemory:
    """Samples the resident memory of a gunicorn master's workers every half second."""

    def __init__(self, master: int) -> None:
        self.master, self.samples, self._stop = master, {}, threading.Event()

    def _workers(self) -> list[int]:
        found = subprocess.run(["pgrep", "-P", str(self.master)], capture_output=True, text=True).stdout.split()
        return [int(pid) for pid in found]

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self._workers():
                self.samples.setdefault(pid, []).append(_rss_mb(pid))
            time.sleep(0.5)

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def seed(frames: int) -> dict:
    """Migrate, load the version and return what the users need (runs in this process, on the scratch DB)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hyperdatasets.settings")
    django.setup()  # on DATABASE_URL, the scratch database

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, connections
    from rest_framework.authtoken.models import Token

    from bench.frames_leg import batches, make_frame
    from hyperdatasets.gc_tuning import tune_collector
    from hyperdatasets.models import AccessRole
    from hyperdatasets.selectors.versions import version_head
    from hyperdatasets.services.datasets import dataset_create
    from hyperdatasets.services.frames import frames_upsert
    from hyperdatasets.services.projects import project_rule_set
    from hyperdatasets.services.versions import version_create, version_publish

    call_command("migrate", verbosity=0)
    tune_collector()
    # The users are a plain account with write on the dataset's project, so every call checks its rules.
    owner = get_user_model().objects.create_user(username="owner", password="pw-owner-123")
    dataset = dataset_create(dataset_name="load", dataset_project="bench", user=owner)
    root = version_head(dataset)
    for batch in batches(make_frame(i) for i in range(frames)):
        assert not frames_upsert(root, batch).failures
    version_publish(root)
    draft = version_create(dataset, version_name="writes", parent_version_ids=[root.pk])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    user = get_user_model().objects.create_user(username="load", password="pw-load-123")
    project_rule_set(dataset.project, role=AccessRole.WRITE, user=user)
    seeded = {"HD_TOKEN": Token.objects.get_or_create(user=user)[0].key, "HD_VERSION": str(root.pk),
              "HD_DRAFT": str(draft.pk), "HD_DATASET": str(dataset.pk), "HD_FRAMES": str(frames)}
    connections.close_all()  # the scratch database is dropped at the end
    return seeded


def run(frames: int, users: int, seconds: int) -> dict:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + DATABASE
    env = {**os.environ, "DATABASE_URL": url, "HYPERDATASETS_VAR_DIR": tempfile.mkdtemp(prefix="hd-load-"),
           "HYPERDATASETS_ACCESS_LOG": ""}
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "HYPERDATASETS_VAR_DIR")})
    started = time.perf_counter()
    users_env = seed(frames)
    seed_s = time.perf_counter() - started
    port = _free_port()
    bin_dir = Path(sys.executable).parent
    server = subprocess.Popen([str(bin_dir / "gunicorn"), "-c", str(ROOT / "hyperdatasets" / "gunicorn_conf.py"),
                               "--bind", f"127.0.0.1:{port}"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, server)
        time.sleep(2)  # every worker booted
        with tempfile.TemporaryDirectory() as folder, WorkerMemory(server.pid) as memory:
            prefix = f"{folder}/load"
            subprocess.run([str(bin_dir / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                            "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--host",
                            f"http://127.0.0.1:{port}", "--csv", prefix, "--only-summary", "--stop-timeout", "10"],
                           env={**env, **users_env}, capture_output=True, text=True, check=False,
                           timeout=seconds + 120)
            with open(f"{prefix}_stats.csv") as stats:
                rows = list(csv.DictReader(stats))
    finally:
        server.terminate()
        server.wait(timeout=60)
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
    rss = [mb for series in memory.samples.values() for mb in series]
    return {"frames": frames, "users": users, "seconds": seconds, "seed_s": seed_s, "rows": rows,
            "rss_start_mb": min((s[0] for s in memory.samples.values() if s), default=0),
            "rss_max_mb": max(rss, default=0), "workers": len(memory.samples)}


def render(result: dict, command: str) -> str:
    lines = [f"{LOAD_HEADING} (PostgreSQL, gunicorn from the run command, locust on loopback)", "",
             f"Produced by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
             f"{result['users']} users for {result['seconds']} s against a Published {result['frames']:,}-frame "
             "version (the frame bench's frames), each user waiting 50-250 ms between calls; 5% of the calls",
             "add 10 frames to a Draft child. The users are a plain account with write on the dataset's project",
             "(every call checks the project's rules). The server is the run command's (2 workers of 8 threads on this",
             "machine's 2 cores), and locust runs on the same 2 cores. Times in ms.", "",
             "| endpoint | requests | failures | p50 | p95 | p99 | max | target | |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in result["rows"]:
        name, failures = row["Name"], int(row["Failure Count"])
        p99 = float(row["99%"])
        reading = row["Type"] == "GET"
        target = f"p99 <= {READ_P99_TARGET_MS}, 0 failures" if reading else "0 failures"
        passes = failures == 0 and (not reading or p99 <= READ_P99_TARGET_MS)
        if name == "Aggregated":
            target, passes = "0 failures", failures == 0
        lines.append(f"| {row['Type']} {name}".replace("GET GET", "GET").replace("POST POST", "POST")
                     + f" | {int(row['Request Count']):,} | {failures} | {row['50%']} | {row['95%']} | {row['99%']} | "
                     f"{float(row['Max Response Time']):,.0f} | {target} | {'meets' if passes else '**misses**'} |")
    rss_ok = result["rss_max_mb"] <= RSS_TARGET_MB
    lines += ["", f"Server workers ({result['workers']}): {result['rss_start_mb']:.0f} MB resident at the start, "
              f"{result['rss_max_mb']:.0f} MB at most during the run (target <= {RSS_TARGET_MB} MB: "
              f"{'meets' if rss_ok else '**misses**'}). Seeding took {result['seed_s']:.0f} s.", ""]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    result = run(args.frames, args.users, args.seconds)
    command = "python bench/load_leg.py " + " ".join(sys.argv[1:])
    replace_section(Path(args.output), LOAD_HEADING, render(result, command.strip()))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
