import os
import socket

import pytest
from django.conf import settings


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False


def pytest_configure(config):
    # Hashing passwords with PBKDF2 for every test user would dominate the suite's time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_sessionstart(session):
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.postgresql":
        host, port = db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)
        if not _reachable(host, port):
            pytest.exit(
                f"PostgreSQL is not reachable at {host}:{port} (DATABASE_URL={os.environ.get('DATABASE_URL')}). "
                "Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
                returncode=3,
            )


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="pw-alice-123")


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser(username="root", password="pw-root-123")


@pytest.fixture(scope="session")
def s3_server():
    """moto in server mode: a real HTTP endpoint speaking the S3 protocol."""
    from moto.server import ThreadedMotoServer

    from tests.servers import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def gcs_server():
    """gcp-storage-emulator: a real HTTP endpoint speaking the GCS JSON API."""
    from tests.deletion import servers

    process, url = servers.gcs_emulator()
    try:
        yield url
    finally:
        servers.stop_process(process)


@pytest.fixture(scope="session")
def azure_server():
    """Azurite's blob service (from npm): a real endpoint speaking the Azure Blob protocol."""
    from tests.deletion import servers

    process, endpoint = servers.azurite()
    try:
        yield endpoint
    finally:
        servers.stop_process(process)


@pytest.fixture
def s3_bucket(s3_server):
    import uuid

    import boto3

    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    name = f"bucket-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return client, name


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
