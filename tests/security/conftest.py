# The API tests' people (one user per role on project 'vision'), their clients and dataset 'cars'.
from tests.api.conftest import clients, dataset, make_client, people  # noqa: F401
