"""Every option combination renders into clean, lint-free files, with only the files its options select."""

import importlib.util
import re

import pytest
from project import COMBOS, TEMPLATE, combo_id, run, tool

# Django templates and GitHub workflows (`${{ github.sha }}`) legitimately contain {{ and {%.
COPIED_WITHOUT_RENDER = re.compile(r"/templates/|/\.github/")
LEFTOVER = re.compile(r"\{\{|\{%|cookiecutter\.")


def post_gen_hook():
    spec = importlib.util.spec_from_file_location("post_gen", TEMPLATE / "hooks" / "post_gen_project.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_combination_renders_without_template_leftovers(generated, combo):
    project = generated(**combo)
    leftovers = []
    for path in sorted(p for p in project.rglob("*") if p.is_file()):
        text = path.read_text(errors="replace")
        pattern = re.compile(r"cookiecutter\.") if COPIED_WITHOUT_RENDER.search(str(path)) else LEFTOVER
        leftovers += [
            f"{path.relative_to(project)}:{n}" for n, line in enumerate(text.splitlines(), 1) if pattern.search(line)
        ]
    assert leftovers == []


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_generated_python_passes_ruff_check_and_format(generated, combo):
    project = generated(**combo)
    run([tool("ruff"), "check", "--no-cache", "."], cwd=project)
    run([tool("ruff"), "format", "--check", "--no-cache", "."], cwd=project)


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_only_the_files_of_selected_options_remain(generated, combo):
    project = generated(**combo)
    for option, choices in post_gen_hook().OPTION_FILES.items():
        for choice, paths in choices.items():
            for path in paths:
                assert (project / path).exists() == (choice == combo[option]), f"{option}={choice}: {path}"


def test_default_slug_is_derived_from_the_project_name(generated):
    assert generated(project_name="Order Desk-Pro").name == "order_desk_pro"


def test_python_version_choice_reaches_every_layer(generated):
    project = generated(python_version="3.13")
    assert (project / ".python-version").read_text().strip() == "3.13"
    assert 'target-version = "py313"' in (project / "pyproject.toml").read_text()
    assert 'requires-python = ">=3.13"' in (project / "pyproject.toml").read_text()
    assert "PYTHON ?= python3.13" in (project / "Makefile").read_text()
