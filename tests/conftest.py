"""Fixtures shared by every module. Helpers live in project.py and services.py, never here."""

import json

import pytest
from project import render


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
