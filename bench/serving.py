"""The run command's own server (gunicorn with the project's settings) on a free loopback port, for the legs
that measure through HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.deletion.servers import wait_for_port

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def run_command_server() -> Iterator[str]:
    """Serve this process's database (its environment) with gunicorn; yields the base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c",
                               str(ROOT / "hyperdatasets" / "gunicorn_conf.py"), "--bind", f"127.0.0.1:{port}"],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)
