from hyperdatasets.models.access import AccessRole, ProjectAccessRule
from hyperdatasets.models.datasets import Dataset, DatasetTag
from hyperdatasets.models.deletion import (
    DeletionJob,
    JobStatus,
    ObjectStatus,
    SkipReason,
    SourceDeletion,
    StorageCredential,
)
from hyperdatasets.models.frames import DatasetMetaField, Frame, FrameLabel
from hyperdatasets.models.projects import Project
from hyperdatasets.models.requests import IdempotentRequest
from hyperdatasets.models.storage import StorageLocation
from hyperdatasets.models.versions import DatasetVersion, VersionParent, VersionStatus

__all__ = [
    "AccessRole", "Dataset", "DatasetMetaField", "DatasetTag", "DatasetVersion", "DeletionJob", "Frame", "FrameLabel",
    "IdempotentRequest",
    "JobStatus", "ObjectStatus", "Project", "ProjectAccessRule", "SkipReason", "SourceDeletion", "StorageCredential",
    "StorageLocation",
    "VersionParent", "VersionStatus",
]
