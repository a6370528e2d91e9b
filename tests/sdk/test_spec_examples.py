"""Every example of shared/spec/datasets-and-versions.md, with `from allegroai import` replaced by
`from hyperdatasets.sdk import`, against a live server, asserting the documented outcomes."""

import re
import warnings

import pytest

from hyperdatasets.sdk import Dataset, DatasetVersion

TIMESTAMP_NAME = re.compile(r"^snapshot \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$")


def test_creating_datasets(api):
    myDataset = Dataset.create(dataset_name='myDataset')
    assert isinstance(myDataset, Dataset) and myDataset.name == "myDataset"
    assert [v.name for v in DatasetVersion.get_versions(dataset_name='myDataset')] == ["Current"]

    myDataset = DatasetVersion.create_new_dataset(dataset_name='myDataset Two')
    assert isinstance(myDataset, DatasetVersion) and myDataset.name == "Current" and myDataset.is_draft

    myDataset_1 = Dataset.create(dataset_name="myDataset", dataset_project="myDataset Project")
    myDataset_2 = DatasetVersion.create_new_dataset(dataset_name="myDataset_2", dataset_project="myDatasetProject_2")
    assert myDataset_1.project == "myDataset Project"
    assert myDataset_2.dataset.project == "myDatasetProject_2"


def test_raise_if_exists(api):
    Dataset.create(dataset_name='myDataset One')
    DatasetVersion.create_new_dataset(dataset_name='myDataset Two')
    printed = []
    try:
        myDataset = Dataset.create(dataset_name='myDataset One', raise_if_exists=True)
    except ValueError:
        printed.append('Dataset exists.')
    try:
        myDataset = DatasetVersion.create_new_dataset(dataset_name='myDataset Two', raise_if_exists=True)
    except ValueError:
        printed.append('Dataset exists.')
    assert printed == ['Dataset exists.', 'Dataset exists.']
    myDataset = DatasetVersion.create_new_dataset(
        dataset_name='myDataset',
        tags=['One Tag', 'Another Tag', 'And one more tag'],
        description='some description text'
    )
    dataset = myDataset.dataset
    assert dataset.tags == ['One Tag', 'Another Tag', 'And one more tag']
    assert dataset.description == 'some description text'


def test_accessing_current_dataset(api):
    Dataset.create(dataset_name='myDataset')
    myDataset = DatasetVersion.get_current(dataset_name='myDataset')
    assert myDataset.name == "Current" and myDataset.is_draft


def test_deleting_datasets(api):
    Dataset.create(dataset_name='MyDataset')
    Dataset.get(dataset_name='MyDataset').delete_version(version_name='Current')
    Dataset.delete(dataset_name='MyDataset', delete_all_versions=False, force=False)
    with pytest.raises(LookupError):
        Dataset.get(dataset_name='MyDataset')

    Dataset.create(dataset_name='MyDataset')
    Dataset.delete(dataset_name='MyDataset', delete_all_versions=True, force=False)
    with pytest.raises(LookupError):
        Dataset.get(dataset_name='MyDataset')

    Dataset.create(dataset_name='MyDataset')
    DatasetVersion.create_snapshot(dataset_name='MyDataset')
    with pytest.raises(ValueError, match="force=True"):
        Dataset.delete(dataset_name='MyDataset', delete_all_versions=True, force=False)
    Dataset.delete(dataset_name='MyDataset', delete_all_versions=True, force=True)
    with pytest.raises(LookupError):
        Dataset.get(dataset_name='MyDataset')

    Dataset.create(dataset_name='MyDataset')
    DatasetVersion.create_snapshot(dataset_name='MyDataset')
    job = Dataset.delete(
      dataset_name='MyDataset', delete_all_versions=True, force=True, delete_sources=True
    )
    assert job.status in ("queued", "running", "succeeded") and job.dataset_name == "MyDataset"
    with pytest.raises(LookupError):
        Dataset.get(dataset_name='MyDataset')


def test_delete_refusals(api):
    Dataset.create(dataset_name='MyDataset')
    with pytest.raises(ValueError, match="delete_all_versions"):
        Dataset.delete(dataset_name='MyDataset', delete_all_versions=False, force=False)


def test_tagging(api):
    MyDataset = Dataset.create(dataset_name='tagged')
    MyDataset.add_tags(["coco", "dogs"])
    assert Dataset.get(dataset_name='tagged').tags == ["coco", "dogs"]
    MyDataset.remove_tags(["dogs"])
    assert Dataset.get(dataset_name='tagged').tags == ["coco"]


def test_snapshot_naming(api):
    Dataset.create(dataset_name='MyDataset')
    before = DatasetVersion.get_current(dataset_name='MyDataset')
    myDataset = DatasetVersion.create_snapshot(dataset_name='MyDataset')
    snap = DatasetVersion.get_version(dataset_name='MyDataset', version_id=before.id)
    assert TIMESTAMP_NAME.match(snap.name) and snap.is_published
    assert myDataset.name == "Current" and myDataset.id != before.id and myDataset.parents == [before.id]

    before = myDataset
    myDataset = DatasetVersion.create_snapshot(dataset_name='MyDataset', publish_name='NewSnapshotName')
    assert DatasetVersion.get_version(dataset_name='MyDataset', version_id=before.id).name == 'NewSnapshotName'
    assert myDataset.name == "Current"

    myDataset = DatasetVersion.create_snapshot(
      dataset_name='MyDataset',
      child_name='NewCurrentVersionName'
    )
    assert myDataset.name == 'NewCurrentVersionName'
    assert DatasetVersion.get_current(dataset_name='MyDataset').id == myDataset.id

    myDataset = DatasetVersion.create_snapshot(
      dataset_name='MyDataset',
      child_metadata={'abc':'1234','def':'5678'},
      child_comment='some text comment'
    )
    assert myDataset.get_metadata() == {'abc': '1234', 'def': '5678'}
    assert myDataset.comment == 'some text comment'


def test_creating_child_and_root_versions(api):
    Dataset.create(dataset_name='MyDataset')
    DatasetVersion.create_snapshot(dataset_name='MyDataset', publish_name='PublishedVersion')
    myVersion = DatasetVersion.create_version(
      dataset_name='MyDataset',
      parent_version_names=['PublishedVersion'],
      version_name='NewChildVersion'
    )
    published = DatasetVersion.get_version(dataset_name='MyDataset', version_name='PublishedVersion')
    assert myVersion.parents == [published.id] and myVersion.is_draft
    again = DatasetVersion.create_version(dataset_name='MyDataset', parent_version_names=['PublishedVersion'],
                                          version_name='NewChildVersion')
    assert again.id == myVersion.id
    with pytest.raises(ValueError):
        myVersion = DatasetVersion.create_version(
          dataset_name='MyDataset',
          parent_version_names=['PublishedVersion'],
          version_name='NewChildVersion',
          raise_if_exists=True
        )
    myDataset = DatasetVersion.create_version(
      dataset_name='MyDataset',
      version_name='NewRootVersion'
    )
    assert myDataset.parents == [] and myDataset.get_frames_count() == 0
    with pytest.raises(ValueError, match="Draft"):
        DatasetVersion.create_version(dataset_name='MyDataset', parent_version_names=['NewRootVersion'],
                                      version_name='FromDraft')


def test_getting_versions(api):
    Dataset.create(dataset_name='MyDataset')
    DatasetVersion.create_snapshot(dataset_name='MyDataset', publish_name='VersionName')
    myDatasetversion = DatasetVersion.get_versions(dataset_name='MyDataset')
    assert [v.name for v in myDatasetversion] == ['VersionName', 'Current']
    myDatasetversion = DatasetVersion.get_versions(
      dataset_name='MyDataset',
      only_published=True
    )
    assert [v.name for v in myDatasetversion] == ['VersionName']
    myDatasetversion = DatasetVersion.get_versions(
      dataset_name='MyDataset',
      only_draft=True
    )
    assert [v.name for v in myDatasetversion] == ['Current']
    with pytest.warns(UserWarning, match="2 versions"):
        myDatasetversion = DatasetVersion.get_version(dataset_name='MyDataset')
    assert myDatasetversion.name == 'Current'
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        myDatasetversion = DatasetVersion.get_version(
          dataset_name='MyDataset',
          version_name='VersionName'
        )
    assert myDatasetversion.name == 'VersionName' and myDatasetversion.is_published


def test_single_version_get_emits_no_warning(api):
    Dataset.create(dataset_name='Lonely')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert DatasetVersion.get_version(dataset_name='Lonely').name == "Current"


def test_deleting_and_publishing_versions(api):
    Dataset.create(dataset_name='MyDataset')
    DatasetVersion.create_version(dataset_name='MyDataset', version_name='VersionToDelete')
    DatasetVersion.create_version(dataset_name='MyDataset', version_name='VersionToPublish')

    myDataset = Dataset.get(dataset_name='MyDataset')
    myDataset.delete_version(version_name='VersionToDelete')
    assert 'VersionToDelete' not in [v.name for v in DatasetVersion.get_versions(dataset_name='MyDataset')]

    myVersion = DatasetVersion.get_version(
      dataset_name='MyDataset',
      version_name='VersionToPublish'
    )
    myVersion.publish_version()
    assert myVersion.is_published
    with pytest.raises(ValueError, match="read-only"):
        myDataset.delete_version(version_name='VersionToPublish')


def test_mask_labels(api):
    Dataset.create(dataset_name='MyDataset')
    DatasetVersion.create_version(dataset_name='MyDataset', version_name='VersionName')
    myDatasetversion = DatasetVersion.get_version(dataset_name='MyDataset',
                                                  version_name='VersionName')
    myDatasetversion.set_masks_labels(
        {
          (0, 0, 0): ["background"],
          (1, 1, 1): ["person", "sitting"],
          (2, 2, 2): ["cat"],
        }
    )
    mapping = myDatasetversion.get_metadata()['mask_labels']
    assert mapping == {'_all_': [{'value': [0, 0, 0], 'labels': ['background']},
                                 {'value': [1, 1, 1], 'labels': ['person', 'sitting']},
                                 {'value': [2, 2, 2], 'labels': ['cat']}]}
    with pytest.raises(ValueError, match="0-255"):
        myDatasetversion.set_masks_labels({(0, 0, 256): ["x"]})
