"""Storage providers, each a module on one interface (``base.StorageProvider``).

Nothing outside this package branches on the provider: callers ask ``provider_for_storage`` or
``provider_for_uri`` and use what the provider offers.
"""

from hyperdatasets.storage.base import StorageProvider, provider_for_scheme, provider_for_storage, provider_for_uri

__all__ = ["StorageProvider", "provider_for_scheme", "provider_for_storage", "provider_for_uri"]
