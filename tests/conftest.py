"""Fixtures shared by every module. Helpers live in project.py and services.py, never here."""

import json

import pytest
from docker_harness import Image, engine, record_size
from project import combo_id, render

# Tests that need a Docker engine share one xdist worker, so one private dockerd builds each image once.
DOCKER_FIXTURES = {"docker", "images"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        if DOCKER_FIXTURES & set(item.fixturenames) or item.get_closest_marker("docker"):
            item.add_marker(pytest.mark.xdist_group("docker"))


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """generated(**answers) renders once per distinct set of answers for the whole session."""
    projects = {}

    def get(**answers):
        key = json.dumps(answers, sort_keys=True)
        if key not in projects:
            projects[key] = render(tmp_path_factory.mktemp("project"), **answers)
        return projects[key]

    return get


@pytest.fixture(scope="session")
def docker():
    """A Docker engine: the running one, else a private dockerd for the session."""
    with engine() as client:
        yield client


@pytest.fixture(scope="session")
def images(docker, generated):
    """images(combo): the combination's runtime image, built once per session."""
    built = {}

    def get(combo):
        key = combo_id(combo)
        if key not in built:
            built[key] = Image(docker, generated(**combo), combo["python_version"])
            record_size(built[key], key)
        return built[key]

    return get
