"""The hyperdatasets SDK: ``from hyperdatasets.sdk import Dataset, DatasetVersion, SingleFrame, FrameGroup``.

Importing it needs no Django settings; it talks to a server over the REST API (see ``configure``).
"""

from hyperdatasets.sdk.client import (
    AccessDeniedError,
    HyperDatasetsError,
    InvalidRequestError,
    NotFoundError,
    ServerError,
    configure,
)
from hyperdatasets.sdk.datasets import Dataset, DatasetVersion
from hyperdatasets.sdk.dataviews import DataView, IterationOrder
from hyperdatasets.sdk.frames import Annotation, FrameGroup, ImageAnnotation, SingleFrame
from hyperdatasets.sdk.jobs import AnnotationJob, DataViewExport, DeletionJob

__all__ = [
    "AccessDeniedError", "Annotation", "AnnotationJob", "DataView", "DataViewExport", "Dataset", "DatasetVersion",
    "DeletionJob",
    "FrameGroup", "HyperDatasetsError", "ImageAnnotation", "InvalidRequestError", "IterationOrder", "NotFoundError",
    "ServerError", "SingleFrame", "configure",
]
