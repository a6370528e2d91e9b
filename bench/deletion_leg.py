"""Source deletion against a real S3 endpoint (moto in server mode, its own process): the deletion job's
keys/s against a plain boto3 DeleteObjects loop (1,000 keys a request, the same number in flight) over the
same number of keys, in the same run. Prints one JSON line. Run by bench/run.py in a scratch database."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hyperdatasets.settings")

import django  # noqa: E402

django.setup()

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from hyperdatasets.models import StorageCredential  # noqa: E402
from hyperdatasets.selectors.versions import version_head  # noqa: E402
from hyperdatasets.services.datasets import dataset_create, dataset_delete  # noqa: E402
from hyperdatasets.services.deletion import deletion_job_run  # noqa: E402
from hyperdatasets.services.frames import frames_upsert  # noqa: E402
from hyperdatasets.storage.credentials import encrypt_secret  # noqa: E402
from tests.deletion.servers import ThrottleProxy, stop_process, wait_for_port  # noqa: E402
from tests.servers import free_port  # noqa: E402


def _put_all(client, bucket: str, keys: list[str]) -> None:
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: client.put_object(Bucket=bucket, Key=k, Body=b"x"), keys))


def _count(client, bucket: str) -> int:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sum(len(page.get("Contents", [])) for page in pages)


def _one_rep(client, endpoint: str, keys: list[str], in_flight: int, rep: int) -> dict:
    """The baseline, then the job, each on its own fresh bucket holding the same keys."""
    n = len(keys)
    # Baseline: boto3 DeleteObjects, 1,000 keys a request, `in_flight` requests at a time.
    baseline = f"baseline-{rep}"
    client.create_bucket(Bucket=baseline)
    _put_all(client, baseline, keys)
    chunks = [keys[i:i + 1000] for i in range(0, n, 1000)]
    started = time.perf_counter()
    with ThreadPoolExecutor(in_flight) as pool:
        list(pool.map(lambda chunk: client.delete_objects(
            Bucket=baseline, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}), chunks))
    baseline_s = time.perf_counter() - started
    assert _count(client, baseline) == 0

    # The job: a dataset whose frames point to the keys (and 1% shared with a dataset that stays).
    bucket = f"jobbucket-{rep}"
    client.create_bucket(Bucket=bucket)
    _put_all(client, bucket, keys)
    StorageCredential.objects.create(provider="s3", bucket=bucket, endpoint_url=endpoint, region="us-east-1",
                                     access_key="bench", secret_encrypted=encrypt_secret("bench"))
    doomed = dataset_create(dataset_name=f"doomed-{rep}")
    frames = [{"id": k, "sources": [{"uri": f"s3://{bucket}/{k}"}]} for k in keys]
    for start in range(0, n, 10_000):
        frames_upsert(version_head(doomed), frames[start:start + 10_000])
    shared = keys[: n // 100]
    keeper = dataset_create(dataset_name=f"keeper-{rep}")
    frames_upsert(version_head(keeper), [{"id": k, "sources": [{"uri": f"s3://{bucket}/{k}"}]} for k in shared])

    started = time.perf_counter()
    job = dataset_delete(doomed, delete_all_versions=True, delete_sources=True)
    sync_s = time.perf_counter() - started
    started = time.perf_counter()
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profile = cProfile.Profile()
        job = profile.runcall(deletion_job_run, job.pk)
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    else:
        job = deletion_job_run(job.pk)
    job_s = time.perf_counter() - started
    left = _count(client, bucket)
    deleted = n - len(shared)
    assert job.status == "succeeded" and job.deleted == deleted and left == len(shared), (job.status, left)
    baseline_rate, job_rate = n / baseline_s, deleted / job_s
    return {"baseline_s": baseline_s, "baseline_keys_per_s": baseline_rate, "job_s": job_s,
            "job_keys_per_s": job_rate, "delete_ratio": job_rate / baseline_rate, "sync_delete_s": sync_s,
            "kept_referenced": left, "wrongly_deleted": len(shared) - left}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3, help="baseline/job pairs; the median pair is reported")
    parser.add_argument("--latency-ms", type=float, default=0,
                        help="delay each request to the S3 server (a forwarding proxy), as a network would")
    args = parser.parse_args()
    n, in_flight = args.objects, settings.HYPERDATASETS_DELETE_IN_FLIGHT
    call_command("migrate", verbosity=0)
    port = free_port()
    moto = subprocess.Popen([str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    proxy = None
    try:
        wait_for_port(port, moto)
        endpoint = f"http://127.0.0.1:{port}"
        if args.latency_ms:
            proxy = ThrottleProxy(endpoint, latency=args.latency_ms / 1000)
            endpoint = proxy.url
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
                              aws_secret_access_key="bench", config=Config(max_pool_connections=32))
        keys = [f"images/{i:07d}.jpg" for i in range(n)]
        reps = [_one_rep(client, endpoint, keys, in_flight, rep) for rep in range(args.repeats)]
        ratios = sorted(r["delete_ratio"] for r in reps)
        middle = sorted(reps, key=lambda r: r["delete_ratio"])[len(reps) // 2]
        print(json.dumps({
            "vendor": django.db.connection.vendor, "objects": n, "in_flight": in_flight, "latency_ms": args.latency_ms,
            "repeats": args.repeats, "ratios": ratios, **middle,
            "wrongly_deleted": sum(r["wrongly_deleted"] for r in reps),
        }))
    finally:
        if proxy is not None:
            proxy.close()
        stop_process(moto)


if __name__ == "__main__":
    main()
