"""The stores and the worker the deletion tests run against, all real processes speaking the real protocols:
moto in server mode (S3), gcp-storage-emulator (GCS), Azurite from npm (Azure), a Celery worker on Redis;
and a forwarding HTTP proxy that injects throttling answers and latency in front of any of them."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def wait_for_port(port: int, process: subprocess.Popen | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def start_process(args: list[str], port: int, log_name: str) -> subprocess.Popen:
    log_dir = ROOT / "test-artifacts"
    log_dir.mkdir(exist_ok=True)
    log = open(log_dir / log_name, "ab")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
    try:
        wait_for_port(port, process)
    except RuntimeError:
        stop_process(process)
        raise
    return process


def stop_process(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def gcs_emulator() -> tuple[subprocess.Popen, str]:
    port = free_port()
    binary = str(Path(sys.executable).with_name("gcp-storage-emulator"))
    process = start_process([binary, "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory"], port,
                            "gcs-emulator.log")
    return process, f"http://127.0.0.1:{port}"


def azurite() -> tuple[subprocess.Popen, str]:
    binary = ROOT / "node_modules" / ".bin" / "azurite-blob"
    if not binary.exists():
        raise RuntimeError("Azurite is not installed: run `npm install` at the project root (scripts/install.sh "
                           "does it)")
    port = free_port()
    process = start_process([str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(port),
                             "--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--silent"], port,
                            "azurite.log")
    return process, f"http://127.0.0.1:{port}/devstoreaccount1"


def azurite_connection_string(blob_endpoint: str) -> str:
    return (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
            f"BlobEndpoint={blob_endpoint};")


class ThrottleProxy:
    """Forwards every request to ``upstream``; answers the first ``throttles`` requests that match
    ``match(method, path)`` with ``status`` and ``body`` instead (the store's throttling answer), and can
    delay every forwarded request by ``latency`` seconds."""

    def __init__(self, upstream: str, *, throttles: int = 0, status: int = 503, body: bytes = b"",
                 content_type: str = "application/xml", match=lambda method, path: True, latency: float = 0.0):
        self.upstream = urlparse(upstream)
        self.remaining, self.status, self.body, self.content_type = throttles, status, body, content_type
        self.match, self.latency = match, latency
        self.throttled = 0
        self.forwarded: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy._lock:
                    throttle = proxy.remaining > 0 and proxy.match(self.command, self.path)
                    if throttle:
                        proxy.remaining -= 1
                        proxy.throttled += 1
                    else:
                        proxy.forwarded.append((self.command, self.path))
                if throttle:
                    self.send_response(proxy.status)
                    self.send_header("Content-Type", proxy.content_type)
                    self.send_header("Content-Length", str(len(proxy.body)))
                    self.send_header("Retry-After", "0")
                    self.end_headers()
                    self.wfile.write(proxy.body)
                    return
                if proxy.latency:
                    time.sleep(proxy.latency)
                upstream = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                self.send_response(response.status, response.reason)
                for key, value in response.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{self.upstream.path.rstrip('/')}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Worker:
    """A Celery worker process (prefork, with the embedded beat that runs the sweeper) on the test database."""

    def __init__(self, env: dict[str, str], name: str) -> None:
        celery = str(Path(sys.executable).with_name("celery"))
        log_dir = ROOT / "test-artifacts"
        log_dir.mkdir(exist_ok=True)
        self.log_path = log_dir / f"celery-{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [celery, "-A", "hyperdatasets", "worker", "-B", "--pool", "prefork", "--concurrency", "1",
             "--loglevel", "INFO", "-Q", env["HYPERDATASETS_CELERY_QUEUE"], "-n", f"{name}@%h",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            env={**os.environ, **env}, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)

    def kill(self) -> None:
        """SIGKILL the worker and its pool and beat processes, as a crash or the OOM killer would."""
        stop_process(self.process, signal.SIGKILL)
        self._log.close()

    def stop(self) -> None:
        stop_process(self.process, signal.SIGTERM, timeout=5)
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
