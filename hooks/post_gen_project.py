"""Drop the files of options that are switched off, then write a local .env with a fresh secret key."""

import secrets
import shutil
from pathlib import Path

ANSWERS = {"async_consumer": "{{ cookiecutter.async_consumer }}"}

# Paths that exist only for one choice of an option; the files of every other choice are removed. An option
# enters here with the first file it switches: {"option": {"choice": ["path", ...], ...every other choice...}}.
OPTION_FILES = {}


def remove_unselected(root):
    for option, choices in OPTION_FILES.items():
        for choice, paths in choices.items():
            if choice == ANSWERS[option]:
                continue
            for path in map(root.joinpath, paths):
                shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)


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
