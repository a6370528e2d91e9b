import pytest
from rest_framework.authtoken.models import Token

from hyperdatasets import sdk


@pytest.fixture
def sdk_user(transactional_db, django_user_model):
    return django_user_model.objects.create_user(username="scripter", password="pw-scripter-123")


@pytest.fixture
def api(live_server, sdk_user):
    """The SDK configured against a live test server, as a script would be."""
    token = Token.objects.create(user=sdk_user)
    sdk.configure(url=live_server.url, token=token.key)
    yield live_server
    sdk.configure(url=None, token=None)


@pytest.fixture
def street_version(api):
    """Dataset "street" in project "dv": 40 frames s00-s39, one box each (car on odd frames, person on even),
    meta.time night on every fourth frame, day otherwise."""
    version = sdk.DatasetVersion.create_new_dataset(dataset_name="street", dataset_project="dv")
    frames = []
    for i in range(40):
        single = sdk.SingleFrame(id=f"s{i:02d}", source=f"s3://b/{i}.jpg", width=64, height=48, timestamp=i,
                                 context_id="drive", metadata={"time": "night" if i % 4 == 0 else "day"})
        single.add_annotation(box2d_xywh=[1, 1, 5, 5], labels=["car"] if i % 2 else ["person"], confidence=0.9)
        frames.append(single)
    assert version.add_frames(frames) == []
    return version
