"""Drop the files of options that are switched off, then write a local .env with a fresh secret key."""

import secrets
import shutil
from pathlib import Path

ANSWERS = {"async_consumer": "{{ cookiecutter.async_consumer }}"}

SLUG = "{{ cookiecutter.project_slug }}"
BACKGROUND = f"{SLUG}/background"
# Background-task files both queue consumers share.
QUEUE_COMMON = [
    f"{BACKGROUND}/__init__.py",
    f"{BACKGROUND}/backend.py",
    f"{BACKGROUND}/envelope.py",
    f"{BACKGROUND}/models.py",
    f"{BACKGROUND}/runner.py",
    f"{BACKGROUND}/sqs.py",
    f"{BACKGROUND}/migrations",
    f"{BACKGROUND}/tests/__init__.py",
    f"{BACKGROUND}/tests/tasks.py",
    f"{BACKGROUND}/tests/test_backend.py",
    f"{BACKGROUND}/tests/test_runner.py",
    "compose",
    "terraform/modules/queue",
    "terraform/modules/stack/tasks_queue.tf",
]
# Paths that exist only for some choices of an option: a path is removed unless the selected choice lists it.
OPTION_FILES = {
    "async_consumer": {
        "celery": [
            *QUEUE_COMMON,
            f"{BACKGROUND}/backend_celery.py",
            f"{BACKGROUND}/celery_app.py",
            f"{BACKGROUND}/tests/test_celery.py",
            "docker-compose.celery.yml",
            "terraform/modules/stack/tasks_celery.tf",
        ],
        "lambda": [
            *QUEUE_COMMON,
            f"{BACKGROUND}/backend_lambda.py",
            f"{BACKGROUND}/handler.py",
            f"{BACKGROUND}/management",
            f"{BACKGROUND}/tests/test_handler.py",
            "docker-compose.lambda.yml",
            "terraform/modules/lambda_consumer",
            "terraform/modules/stack/tasks_lambda.tf",
        ],
        "none": ["terraform/modules/stack/tasks_none.tf"],
    },
}


def remove_unselected(root):
    for option, choices in OPTION_FILES.items():
        kept = set(choices[ANSWERS[option]])
        for choice, paths in choices.items():
            for path in map(root.joinpath, set(paths) - kept):
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink(missing_ok=True)
    # A package left with no module in it (the background package for `none`) goes too.
    background = root / BACKGROUND
    if background.is_dir() and not any(background.rglob("*.py")):
        shutil.rmtree(background)


def write_dotenv(root):
    """.env is git-ignored; .env.example (tracked) only ever holds a placeholder."""
    target = root / ".env"
    if target.exists():
        return
    lines = (root / ".env.example").read_text().splitlines()
    key = secrets.token_urlsafe(50)
    lines = [f"SECRET_KEY={key}" if line.startswith("SECRET_KEY=") else line for line in lines]
    target.write_text("\n".join(lines) + "\n")
    target.chmod(0o600)


if __name__ == "__main__":
    remove_unselected(Path.cwd())
    write_dotenv(Path.cwd())
