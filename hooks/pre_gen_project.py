"""Reject bad answers before anything is written: one line per problem, naming the field and the fix."""

import json
import keyword
import re
import sys

ANSWERS = json.loads({{ cookiecutter | jsonify | tojson }})

# Top-level modules the generated project imports or creates; a package named like one would shadow it.
PROJECT_MODULES = {
    "asgiref", "aws_embedded_metrics", "awslambdaric", "axes", "boto3", "botocore", "celery", "config", "conftest",
    "dj_database_url", "django", "django_redis", "gunicorn", "kombu", "manage", "moto", "psycopg",
    "psycopg_pool", "pytest", "pytest_django", "pythonjsonlogger", "redis", "servestatic", "test", "tests", "uv",
    "uvicorn", "uvicorn_worker", "watchtower",
}  # fmt: skip

# Commercial ("aws" partition) regions, as listed by `aws account list-regions --all-regions` in 2026. GovCloud and
# China are other partitions (arn:aws-us-gov:, arn:aws-cn:), which the workflows' and bootstrap's ARNs do not name.
AWS_REGIONS = {
    "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
    "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1",
    "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
    "il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2",
    "us-west-1", "us-west-2",
}  # fmt: skip

LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
# Free text may hold any printable character: every file that carries it escapes it for its own syntax.
TEXT_FIELDS = {
    "project_name": "give the project a name, e.g. 'My Shop'",
    "description": "describe the project in one line, e.g. 'An online shop'",
    "author_name": "give the maintainer's name, e.g. 'Jane Doe'",
}
EXAMPLE = "e.g. project_slug=my_shop"
SET_SLUG = "derived from project_name unless you typed it; set it yourself, " + EXAMPLE
# What cookiecutter.json derives from a name without a single letter or digit.
NO_SLUG = "_"


def problems(a):
    """Yield (field, fix) for every answer that cannot produce a working project."""
    for field, example in TEXT_FIELDS.items():
        value = a[field]
        if not value.strip():
            yield field, f"it is empty; {example}"
        elif not value.isprintable():
            yield field, f"use one line of printable characters; {example}"
    slug = a["project_slug"]
    if slug == NO_SLUG:
        if a["project_name"].strip():  # an empty name is reported once, above
            yield "project_slug", "project_name has no letters or digits to derive it from; set it yourself, " + EXAMPLE
    elif not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", slug):
        yield "project_slug", "use a letter, then lowercase letters, digits or _ (max 40); it is " + SET_SLUG
    elif keyword.iskeyword(slug):
        yield "project_slug", "it is a Python keyword, so no module can be named after it; it is " + SET_SLUG
    elif slug in PROJECT_MODULES or slug in sys.stdlib_module_names:
        yield "project_slug", "it shadows a module the project imports; it is " + SET_SLUG
    if not re.fullmatch(r"[^@\s]+@" + LABEL + r"(\." + LABEL + r")+", a["author_email"]):
        yield "author_email", "use an address like jane@example.com"
    domain = a["domain_name"]
    if len(domain) > 253 or not re.fullmatch(LABEL + r"(\." + LABEL + r")*\.[a-z]{2,63}", domain):
        yield "domain_name", "use a lowercase host name like app.example.com, without scheme, port or path"
    region = a["aws_region"]
    if not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", region):
        yield "aws_region", "use a region code like us-east-1"
    elif region.startswith(("us-gov-", "cn-")):
        yield "aws_region", (
            "GovCloud and China regions are other partitions; the template builds arn:aws: ARNs, "
            "so use a commercial region like us-east-1"
        )
    elif region not in AWS_REGIONS:
        yield "aws_region", "not a known AWS region; use one of " + ", ".join(sorted(AWS_REGIONS)[:4]) + " ..."
    if not re.fullmatch(r"(?!-)[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}", a["github_repository"]):
        yield "github_repository", "use owner/name as in https://github.com/owner/name"


def main():
    found = list(problems(ANSWERS))
    for field, fix in found:
        print(f"ERROR: {field}={ANSWERS[field]!r} is invalid: {fix}.", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
