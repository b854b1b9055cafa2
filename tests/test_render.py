"""Every option combination renders into clean, lint-free files, with only the files its options select."""

import ast
import importlib.util
import json
import re
import tomllib
from pathlib import Path

import pytest
import terraform_harness as tf
import yaml
from project import CHOICES, COMBOS, CONTEXT, TEMPLATE, combo_id, render, run, tool

# Django templates and GitHub workflows (`${{ github.sha }}`) legitimately contain {{ and {%.
COPIED_WITHOUT_RENDER = re.compile(r"/templates/|/\.github/")
LEFTOVER = re.compile(r"\{\{|\{%|cookiecutter\.")


def post_gen_hook():
    spec = importlib.util.spec_from_file_location("post_gen", TEMPLATE / "hooks" / "post_gen_project.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_combination_renders_without_template_leftovers(tmp_path, combo):
    # A rendering of its own: other tests run the shared ones (collectstatic, virtualenvs), adding files.
    project = render(tmp_path, **combo)
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


def test_option_files_list_every_choice_and_some_files_for_each_option():
    """An option listed with no files at all would let the check below pass without looking at anything."""
    for option, choices in post_gen_hook().OPTION_FILES.items():
        assert option in CHOICES, f"{option} is not a choice option of cookiecutter.json"
        assert set(choices) == set(CHOICES[option]), f"{option}: list the files of every choice, even if none"
        assert any(choices.values()), f"{option} switches no files: leave it out of OPTION_FILES"


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_only_the_files_of_selected_options_remain(generated, combo):
    project = generated(**combo)
    # A path listed under several choices (files both queue consumers share) stays when any of them is chosen.
    wrong = [
        f"{option}={combo[option]}: {path}"
        for option, choices in post_gen_hook().OPTION_FILES.items()
        for path in {p for paths in choices.values() for p in paths}
        # The hook's source is read unrendered: its package paths name the slug as a template variable.
        if (project / path.replace("{{ cookiecutter.project_slug }}", project.name)).exists()
        != (path in choices[combo[option]])
    ]
    assert wrong == []


def test_default_slug_is_derived_from_the_project_name(generated):
    assert generated(project_name="Order Desk-Pro").name == "order_desk_pro"


def test_python_version_choice_reaches_every_layer(generated):
    project = generated(python_version="3.13")
    assert (project / ".python-version").read_text().strip() == "3.13"
    assert 'target-version = "py313"' in (project / "pyproject.toml").read_text()
    assert 'requires-python = ">=3.13"' in (project / "pyproject.toml").read_text()
    assert "PYTHON ?= python3.13" in (project / "Makefile").read_text()


# Answers the hook accepts that each stress one kind of escaping in the files that carry them.
ODD_ANSWERS = {
    "apostrophes": {"project_name": "O'Brien's Bakery", "author_name": "Seán O'Brien"},
    "double-quotes": {"project_name": 'The "Best" Shop', "description": 'A "quoted" description'},
    "backslashes": {
        "project_name": "Back\\slash Shop",
        "description": "paths like C:\\temp\\new",
        "author_name": "A\\B",
    },
    "braces-and-backticks": {"description": "uses {braces}, `backticks` and $dollars", "author_name": "{Jane}"},
    "long-name": {"project_name": "A Rather Long Project Name For The Regional Office Of Sales " * 2},
    "unicode-author": {
        "project_name": "Café & Co",
        "author_name": "Zoë Ångström-Łukasz 東京",
        "description": "Ünïcode ✓",
    },
}


def parse(path):
    """Parse one generated file by its kind; returns the parsed value (None for the kinds only checked)."""
    name = path.name
    if name.endswith(".toml"):
        return tomllib.loads(path.read_text())
    if name.endswith(".json"):
        return json.loads(path.read_text())
    if name.endswith((".yml", ".yaml")):
        return yaml.safe_load(path.read_text())
    if name.endswith(".py"):
        return ast.parse(path.read_text(), filename=str(path))
    if name.endswith((".tf", ".tfvars.example")):
        return tf.load_hcl(path)
    if name.endswith(".sh"):
        return run(["bash", "-n", path])
    if name == "Makefile":
        return run(["make", "-n", "-f", path, "help"], cwd=path.parent)
    return None


@pytest.mark.parametrize("answers", ODD_ANSWERS.values(), ids=ODD_ANSWERS.keys())
def test_odd_but_valid_answers_render_a_project_whose_every_file_parses(generated, answers):
    project = generated(**answers)
    parsed = {p.relative_to(project): parse(p) for p in project.rglob("*") if p.is_file()}
    kinds = {p.suffix or p.name for p, value in parsed.items() if value is not None}
    assert {".toml", ".json", ".yml", ".py", ".tf", ".sh", "Makefile"} <= kinds
    metadata = parsed[Path("pyproject.toml")]["project"]
    context = {**{k: v for k, v in CONTEXT.items() if isinstance(v, str)}, **answers}
    assert metadata["description"] == context["description"]
    assert metadata["authors"] == [{"name": context["author_name"], "email": context["author_email"]}]
    readme = (project / "README.md").read_text()
    assert readme.startswith(f"# {context['project_name']}\n")
    assert context["author_name"] in readme


def test_every_option_has_a_friendly_prompt():
    public = [name for name in CONTEXT if not name.startswith("_")]
    prompts = CONTEXT["__prompts__"]
    assert sorted(prompts) == sorted(public)
