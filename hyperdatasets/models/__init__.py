from hyperdatasets.models.access import AccessRole, ProjectAccessRule
from hyperdatasets.models.datasets import Dataset, DatasetTag
from hyperdatasets.models.frames import DatasetMetaField, Frame, FrameLabel
from hyperdatasets.models.projects import Project
from hyperdatasets.models.versions import DatasetVersion, VersionParent, VersionStatus

__all__ = [
    "AccessRole", "Dataset", "DatasetMetaField", "DatasetTag", "DatasetVersion", "Frame", "FrameLabel", "Project",
    "ProjectAccessRule", "VersionParent", "VersionStatus",
]
