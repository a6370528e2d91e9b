"""The contract leg, one command: ``python bench/contract_leg.py`` (from the repository root, after install).

Serves a scratch PostgreSQL database (a superuser's token, a dataset with a Published version of 100 frames
and a Draft child) with the run command's server on a free loopback port, and runs schemathesis' CLI against
its OpenAPI schema with every check, positive and negative data and the stateful phase, until at least
``--cases`` test cases ran (20,000 by default; a further round, sized to what is left, when one falls
short). Writes the cases, failures by check and errors to the "Contract" section of docs/benchmarks.md.
The suite runs the same checks with fewer examples (tests/api/test_schema_contract.py); schemathesis.toml
applies to both.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load_leg import PG_ADMIN, _free_port  # noqa: E402 - the scratch-database server, as the load leg
from bench.run import CONTRACT_HEADING, replace_section  # noqa: E402
from tests.deletion.servers import wait_for_port  # noqa: E402

DATABASE = "hyperdatasets_bench_contract"
_CASES = re.compile(r"(\d+) generated")
_FAILURE = re.compile(r"❌ (ST\d+ [^:\n]+): (\d+)")
_ERROR = re.compile(r"🚫 ([^:\n]+): (\d+)")


def seed_database() -> str:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hyperdatasets.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections
    from rest_framework.authtoken.models import Token

    from bench.frames_leg import make_frame
    from hyperdatasets.selectors.versions import version_head
    from hyperdatasets.services.datasets import dataset_create
    from hyperdatasets.services.frames import frames_upsert
    from hyperdatasets.services.versions import version_create, version_publish

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_superuser(username="contract", password="pw-contract-123")
    dataset = dataset_create(dataset_name="contract", dataset_project="bench", user=user)
    root = version_head(dataset)
    assert not frames_upsert(root, [make_frame(i) for i in range(100)]).failures
    version_publish(root)
    version_create(dataset, version_name="child", parent_version_ids=[root.pk], user=user)
    token = Token.objects.create(user=user).key
    connections.close_all()
    return token


def schemathesis(port: int, token: str, examples: int, seed: int | None = None) -> dict:
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "schemathesis"), "run", f"http://127.0.0.1:{port}/api/schema/?format=json",
         "-H", f"Authorization: Token {token}", "--checks", "all", "--max-examples", str(examples),
         "--continue-on-failure", "--workers", "1", "--no-color", *(["--seed", str(seed)] if seed else [])],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=3600)
    summary = done.stdout[done.stdout.rfind("SUMMARY"):]
    start = done.stdout.find("FAILURES")
    return {"examples": examples, "seconds": time.perf_counter() - started, "exit": done.returncode,
            "failure_text": done.stdout[start:done.stdout.rfind("SUMMARY")] if start != -1 else "",
            "cases": sum(int(n) for n in _CASES.findall(summary)),
            "failures": {name.strip(): int(n) for name, n in _FAILURE.findall(summary)},
            "errors": {name.strip(): int(n) for name, n in _ERROR.findall(summary)},
            "tail": summary[-3000:]}


def run(cases: int, examples: int, seed: int | None = None) -> list[dict]:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    env = {**os.environ, "DATABASE_URL": PG_ADMIN.rsplit("/", 1)[0] + "/" + DATABASE,
           "HYPERDATASETS_VAR_DIR": tempfile.mkdtemp(prefix="hd-contract-"), "HYPERDATASETS_ACCESS_LOG": ""}
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "HYPERDATASETS_VAR_DIR")})
    token = seed_database()
    port = _free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c",
                               str(ROOT / "hyperdatasets" / "gunicorn_conf.py"), "--bind", f"127.0.0.1:{port}"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rounds: list[dict] = []
    try:
        wait_for_port(port, server)
        while sum(r["cases"] for r in rounds) < cases:
            rounds.append(schemathesis(port, token, examples, seed))
            print(f"{rounds[-1]['cases']:,} cases with {examples} examples an operation", flush=True)
            if not rounds[-1]["cases"]:
                raise SystemExit("schemathesis ran no case:\n" + rounds[-1]["tail"])
            remaining = cases - sum(r["cases"] for r in rounds)
            examples = max(10, int(examples * remaining / rounds[-1]["cases"]) + 1)  # about what is left
    finally:
        server.terminate()
        server.wait(timeout=60)
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
    return rounds


def render(rounds: list[dict], command: str) -> str:
    total = sum(r["cases"] for r in rounds)
    failures: dict[str, int] = {}
    errors: dict[str, int] = {}
    for r in rounds:
        for name, n in r["failures"].items():
            failures[name] = failures.get(name, 0) + n
        for name, n in r["errors"].items():
            errors[name] = errors.get(name, 0) + n
    lines = [f"{CONTRACT_HEADING} (schemathesis, every check, PostgreSQL, gunicorn from the run command)", "",
             f"Produced by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: schemathesis' CLI "
             "against the served OpenAPI schema with `--checks all` (positive and negative data, statuses, "
             "content types, headers, response schemas, authentication, the stateful phase) and the "
             "repository's schemathesis.toml.", "",
             "| round | examples an operation | cases | failures | errors | time |",
             "| --- | --- | --- | --- | --- | --- |"]
    for index, r in enumerate(rounds, 1):
        lines.append(f"| {index} | {r['examples']} | {r['cases']:,} | {sum(r['failures'].values())} | "
                     f"{sum(r['errors'].values())} | {r['seconds']:.0f} s |")
    verdict = "meets" if total >= 20_000 and not failures else "**misses**"
    lines += ["", f"{total:,} cases, {sum(failures.values())} failures (target: >= 20,000 cases, 0 failures: "
              f"{verdict})."]
    if failures:
        lines.append("Failures by check: " + ", ".join(f"{name} {n}" for name, n in sorted(failures.items())) + ".")
    if errors:
        lines.append("Errors of the tool itself (not answers of the server): "
                     + ", ".join(f"{name} {n}" for name, n in sorted(errors.items())) + ".")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--examples", type=int, default=100, help="examples an operation in the first round")
    parser.add_argument("--seed", type=int, help="schemathesis' seed, to repeat a run")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    rounds = run(args.cases, args.examples, args.seed)
    for r in rounds:
        print(r["failure_text"][:20000])
        print(r["tail"][-1500:])
    replace_section(Path(args.output), CONTRACT_HEADING, render(rounds, "python bench/contract_leg.py "
                                                                + " ".join(sys.argv[1:])).strip() + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
