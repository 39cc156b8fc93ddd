import pytest

from tests.factories import ProjectFactory, UserFactory
from tests.projects.factories import write_samples


@pytest.fixture(scope="session")
def samples(tmp_path_factory):
    """The shared sample generator's output (group chat log, alpaca, ShareGPT, OpenAI chat, CSV)."""
    return write_samples(tmp_path_factory.mktemp("samples"))


@pytest.fixture
def manager(db):
    return UserFactory(username="manager_h1a", is_staff=True)


@pytest.fixture
def project(db, manager):
    return ProjectFactory(name="导入 import")
