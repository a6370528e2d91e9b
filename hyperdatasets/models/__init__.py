from hyperdatasets.models.datasets import Dataset, DatasetTag
from hyperdatasets.models.frames import DatasetMetaField, Frame, FrameLabel
from hyperdatasets.models.projects import Project
from hyperdatasets.models.versions import DatasetVersion, VersionParent, VersionStatus

__all__ = [
    "Dataset", "DatasetMetaField", "DatasetTag", "DatasetVersion", "Frame", "FrameLabel", "Project",
    "VersionParent", "VersionStatus",
]
