"""The SDK latency leg, one command: ``python bench/latency_leg.py`` (from the repository root, after install).

Serves a scratch database with the run command's own server (gunicorn, hyperdatasets/gunicorn_conf.py) on a
free loopback port, as a plain user with read and write on the dataset's project (the rule check every call
makes; a superuser skips it), and times SDK calls one after the other: ``Dataset.get`` and
``DatasetVersion.get_current`` by name and by id, and ``DatasetVersion.create_snapshot`` by name. On the
run command's database (SQLite, the default) and on PostgreSQL. Writes p50/p95 to the "SDK latency" section
of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load_leg import PG_ADMIN, _free_port  # noqa: E402
from bench.run import LATENCY_HEADING, replace_section  # noqa: E402
from tests.deletion.servers import wait_for_port  # noqa: E402

DATABASE = "hyperdatasets_bench_latency"
TARGETS_MS = {"Dataset.get": 8, "DatasetVersion.get_current": 8, "DatasetVersion.create_snapshot": 15}


def seed() -> str:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hyperdatasets.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections
    from rest_framework.authtoken.models import Token

    from bench.frames_leg import make_frame
    from hyperdatasets.models import AccessRole
    from hyperdatasets.selectors.versions import version_head
    from hyperdatasets.services.datasets import dataset_create
    from hyperdatasets.services.frames import frames_upsert
    from hyperdatasets.services.projects import project_rule_set

    call_command("migrate", verbosity=0)
    owner = get_user_model().objects.create_user(username="owner", password="pw-owner-123")
    user = get_user_model().objects.create_user(username="latency", password="pw-latency-123")
    dataset = dataset_create(dataset_name="latency", dataset_project="bench", user=owner)
    project_rule_set(dataset.project, role=AccessRole.WRITE, user=user)
    assert not frames_upsert(version_head(dataset), [make_frame(i) for i in range(1000)]).failures
    token = Token.objects.create(user=user).key
    connections.close_all()
    return token


def _timed(call, repeats: int) -> list[float]:
    call()  # warm: the connection and the worker's first request
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure(database_url: str | None, repeats: int) -> dict:
    env = {**os.environ, "HYPERDATASETS_VAR_DIR": tempfile.mkdtemp(prefix="hd-latency-"),
           "HYPERDATASETS_ACCESS_LOG": ""}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    # Seed in a child process: each database gets a fresh Django set-up.
    token = subprocess.run([sys.executable, __file__, "--seed"], env=env, cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.strip().splitlines()[-1]
    port = _free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c",
                               str(ROOT / "hyperdatasets" / "gunicorn_conf.py"), "--bind", f"127.0.0.1:{port}"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, server)
        time.sleep(2)  # every worker booted
        from hyperdatasets import sdk

        sdk.configure(url=f"http://127.0.0.1:{port}", token=token)
        dataset_id = sdk.Dataset.get(dataset_name="latency", dataset_project="bench").id
        calls = {
            "Dataset.get": lambda: sdk.Dataset.get(dataset_name="latency", dataset_project="bench"),
            "Dataset.get (id)": lambda: sdk.Dataset.get(dataset_id=dataset_id),
            "DatasetVersion.get_current": lambda: sdk.DatasetVersion.get_current(dataset_name="latency",
                                                                                 dataset_project="bench"),
            "DatasetVersion.get_current (id)": lambda: sdk.DatasetVersion.get_current(dataset_id=dataset_id),
            "DatasetVersion.create_snapshot": lambda: sdk.DatasetVersion.create_snapshot(
                dataset_name="latency", dataset_project="bench"),
        }
        return {name: _timed(call, repeats if "snapshot" not in name else max(repeats // 4, 10))
                for name, call in calls.items()}
    finally:
        server.terminate()
        server.wait(timeout=60)


def render(results: dict, command: str) -> str:
    lines = [f"{LATENCY_HEADING} (the run command's gunicorn on loopback, one call after the other)", "",
             f"Produced by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. A plain user "
             "with write on the dataset's project (so every call checks the project's rules); the dataset holds "
             "a 1,000-frame Draft. `create_snapshot` publishes the Draft and creates its child each time, so "
             "its dataset grows a version a call. Times in ms, client and server on this machine's 2 cores.", "",
             "| database | call | calls | p50 | p95 | target (p50) | |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for database, timings in results.items():
        for name, times in timings.items():
            p50 = statistics.median(times)
            p95 = statistics.quantiles(times, n=20)[-1]
            target = TARGETS_MS.get(name.split(" (")[0])
            verdict = ("meets" if p50 <= target else "**misses**") if target else ""
            lines.append(f"| {database} | `{name}` | {len(times)} | {p50:.1f} | {p95:.1f} | "
                         f"{f'<= {target}' if target else ''} | {verdict} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        print(seed())
        return
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    try:
        results = {"SQLite (the run command's default)": measure(None, args.repeats),
                   "PostgreSQL": measure(PG_ADMIN.rsplit("/", 1)[0] + "/" + DATABASE, args.repeats)}
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
    for database, timings in results.items():
        print(database, {name: round(statistics.median(t), 2) for name, t in timings.items()})
    replace_section(Path(args.output), LATENCY_HEADING,
                    render(results, ("python bench/latency_leg.py " + " ".join(sys.argv[1:])).strip()))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
