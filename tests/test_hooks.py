"""The pre-generation hook rejects bad answers with one line each; the post-generation hook writes a local .env."""

import re
import subprocess
from pathlib import Path

import pytest
from project import CHOICES, TEMPLATE

BAD_INPUTS = {
    "slug-with-capitals": ({"project_slug": "MyProject"}, "project_slug"),
    "slug-with-hyphen": ({"project_slug": "my-project"}, "project_slug"),
    "slug-starting-with-digit": ({"project_slug": "1project"}, "project_slug"),
    "slug-shadows-django": ({"project_slug": "django"}, "project_slug"),
    "slug-shadows-celery": ({"project_slug": "celery"}, "project_slug"),
    "slug-shadows-config": ({"project_slug": "config"}, "project_slug"),
    "slug-shadows-stdlib-test": ({"project_slug": "test"}, "project_slug"),
    "slug-is-keyword": ({"project_slug": "class"}, "project_slug"),
    "domain-with-scheme": ({"domain_name": "https://example.com"}, "domain_name"),
    "domain-without-dot": ({"domain_name": "localhost"}, "domain_name"),
    "domain-with-path": ({"domain_name": "example.com/app"}, "domain_name"),
    "email-without-at": ({"author_email": "jane.example.com"}, "author_email"),
    "email-without-domain": ({"author_email": "jane@"}, "author_email"),
    "region-bad-format": ({"aws_region": "US-EAST-1"}, "aws_region"),
    "region-unknown": ({"aws_region": "us-north-9"}, "aws_region"),
    "repository-without-owner": ({"github_repository": "my-project"}, "github_repository"),
    "repository-as-url": ({"github_repository": "https://github.com/o/r"}, "github_repository"),
    "name-is-empty": ({"project_name": ""}, "project_name"),
    "name-with-a-newline": ({"project_name": "My\nProject", "project_slug": "my_project"}, "project_name"),
    "name-gives-no-slug": ({"project_name": "!!!"}, "project_slug"),
    "name-gives-a-slug-starting-with-digit": ({"project_name": "2026 Plan"}, "project_slug"),
}


# Regions outside the commercial "aws" partition: ARNs there start arn:aws-us-gov: / arn:aws-cn:.
OTHER_PARTITIONS = ["us-gov-west-1", "us-gov-east-1", "cn-north-1", "cn-northwest-1"]


@pytest.mark.parametrize("region", OTHER_PARTITIONS, ids=lambda r: f"region={r}")
def test_regions_of_other_partitions_are_rejected_saying_why(cookies, capfd, region):
    result = cookies.bake(extra_context={"aws_region": region})
    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("ERROR:")]
    assert result.exit_code != 0
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"ERROR: aws_region='{region}' is invalid: ")
    assert "partition" in errors[0]
    assert "arn:aws:" in errors[0]


@pytest.mark.parametrize(("answers", "field"), BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_is_rejected_with_one_line_and_no_output(cookies, tmpdir, capfd, answers, field):
    result = cookies.bake(extra_context=answers)
    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("ERROR:")]
    assert result.exit_code != 0
    assert type(result.exception).__name__ == "FailedHookException"
    assert len(errors) == 1, errors
    assert re.match(rf"ERROR: {field}='.*' is invalid: .+\.$", errors[0]), errors[0]
    assert list(Path(tmpdir, "cookies").glob("*/*")) == [], "an output directory was left behind"


def test_a_keyword_is_reported_as_a_keyword(cookies, capfd):
    cookies.bake(extra_context={"project_slug": "class"})
    (error,) = [line for line in capfd.readouterr().err.splitlines() if line.startswith("ERROR:")]
    assert "is a Python keyword" in error, error
    assert "shadows" not in error, error


def test_an_empty_name_is_reported_as_empty(cookies, capfd):
    cookies.bake(extra_context={"project_name": "  "})
    (error,) = [line for line in capfd.readouterr().err.splitlines() if line.startswith("ERROR:")]
    assert error == "ERROR: project_name='  ' is invalid: it is empty; give the project a name, e.g. 'My Shop'.", error


def test_a_bad_derived_slug_says_how_to_set_it(cookies, capfd):
    cookies.bake(extra_context={"project_name": "2026 Plan"})
    (error,) = [line for line in capfd.readouterr().err.splitlines() if line.startswith("ERROR:")]
    assert "project_slug='2026_plan'" in error
    assert "derived from project_name" in error
    assert "project_slug=" in error.split("is invalid:")[1], "the fix names the option to set"


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Café & Co", "cafe_co"),
        ("O'Brien's Bakery", "obriens_bakery"),
        ("Straße-Shop", "strasse_shop"),
        ("  Order Desk-Pro  ", "order_desk_pro"),
        ("A Rather Long Project Name For The Regional Office Of Sales", "a_rather_long_project_name_for_the"),
    ],
    ids=lambda value: value,
)
def test_the_slug_is_derived_from_any_printable_name(cookies, name, slug):
    result = cookies.bake(extra_context={"project_name": name})
    assert result.exit_code == 0, result.exception
    assert result.project_path.name == slug
    assert len(slug) <= 40


def test_choices_are_checked_by_cookiecutter_json_alone(cookies):
    """The hook holds no copy of the choice lists: cookiecutter rejects a value outside them before any hook runs."""
    result = cookies.bake(extra_context={"python_version": "3.9"})
    assert result.exit_code != 0
    assert "choices are ['3.12', '3.13']" in str(result.exception)
    hook = (TEMPLATE / "hooks" / "pre_gen_project.py").read_text()
    for name in CHOICES:
        assert name not in hook, f"the pre-generation hook repeats the {name} choices"


def test_several_bad_inputs_are_each_reported(cookies, capfd):
    result = cookies.bake(extra_context={"domain_name": "nope", "aws_region": "mars-1"})
    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("ERROR:")]
    assert result.exit_code != 0
    assert [e.split("=")[0] for e in errors] == ["ERROR: domain_name", "ERROR: aws_region"]


def test_good_unusual_inputs_are_accepted(cookies):
    result = cookies.bake(
        extra_context={
            "project_name": "Ünïcode Shop",
            "project_slug": "shop_2",
            "domain_name": "app.shop-2.example.co.uk",
            "github_repository": "Org-1/repo.name_x",
            "aws_region": "eu-central-2",
        }
    )
    assert result.exit_code == 0, result.exception
    assert result.project_path.name == "shop_2"


def test_dotenv_gets_a_fresh_secret_key_and_stays_out_of_git(cookies):
    first = cookies.bake(extra_context={"project_slug": "first"}).project_path
    second = cookies.bake(extra_context={"project_slug": "second"}).project_path
    keys = [re.search(r"^SECRET_KEY=(.+)$", (p / ".env").read_text(), re.MULTILINE).group(1) for p in (first, second)]
    assert keys[0] != keys[1]
    assert all(len(key) >= 50 for key in keys)
    assert (first / ".env").stat().st_mode & 0o777 == 0o600
    subprocess.run(["git", "init", "-q"], cwd=first, check=True)
    subprocess.run(["git", "add", "-A"], cwd=first, check=True)
    tracked = subprocess.run(["git", "ls-files"], cwd=first, check=True, capture_output=True, text=True).stdout
    assert ".env" not in tracked.split()
    assert ".env.example" in tracked.split()
    assert not any(
        key in p.read_text(errors="replace")
        for p in first.rglob("*")
        if p.is_file() and p.name != ".env" and ".git" not in p.parts
        for key in keys[:1]
    )
