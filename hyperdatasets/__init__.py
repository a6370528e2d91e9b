"""hyperdatasets: versioned computer-vision datasets.

Importing this package needs no Django settings: the SDK (``hyperdatasets.sdk``) is used from plain scripts.
The Celery app lives in ``hyperdatasets.celery`` and is found by ``celery -A hyperdatasets worker``.
"""

__version__ = "0.1.0"
