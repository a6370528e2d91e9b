from hyperdatasets.models.datasets import Dataset, DatasetTag
from hyperdatasets.models.projects import Project
from hyperdatasets.models.versions import DatasetVersion, VersionParent, VersionStatus

__all__ = ["Dataset", "DatasetTag", "DatasetVersion", "Project", "VersionParent", "VersionStatus"]
