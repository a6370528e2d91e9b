"""A bench leg's measurement in a scratch PostgreSQL database: created, measured in a child process (the
leg's own script with ``--measure``), dropped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("BENCH_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def measure_in_scratch_database(script: str, database: str, args: list[str], keep: bool = False) -> dict:
    """Run ``script --measure *args`` against a fresh database ``database`` and return the JSON its last
    line prints; ``keep`` leaves the database (to inspect plans)."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database}")
        conn.execute(f"CREATE DATABASE {database}")
    try:
        env = {**os.environ, "DATABASE_URL": PG_ADMIN.rsplit("/", 1)[0] + "/" + database,
               "HYPERDATASETS_VAR_DIR": tempfile.mkdtemp(prefix=f"hd-bench-{database}-")}
        out = subprocess.run([sys.executable, script, "--measure", *args], env=env, cwd=ROOT, capture_output=True,
                             text=True)
        if out.returncode:
            sys.exit(out.stderr[-4000:])
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        if not keep:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {database}")
