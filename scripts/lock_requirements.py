"""Re-pin the generated project's requirements*.txt for every async_consumer choice and merge them into one template.

Each choice is rendered and locked with its own `make lock`; pins every choice shares stay plain lines, the others
are wrapped in a Jinja condition on async_consumer. From the template root: `make lock`.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parent.parent
SOURCE = TEMPLATE / "{{cookiecutter.project_slug}}"
FILES = ("requirements.txt", "requirements-dev.txt")


def lock(choice, workdir):
    output = workdir / choice
    project = Path(
        cookiecutter(str(TEMPLATE), no_input=True, extra_context={"async_consumer": choice}, output_dir=str(output))
    )
    # The generated Makefile runs $(BIN)/uv: the one beside this Python (the template's .venv).
    env = {**os.environ, "UV_NATIVE_TLS": "1"}
    subprocess.run(["make", "lock", f"BIN={Path(sys.executable).parent}"], cwd=project, env=env, check=True)
    return {name: (project / name).read_text().splitlines() for name in FILES}


def merge(locked):
    """One file's lines for every choice -> the template's text."""
    choices = list(locked)
    header = [line for line in locked[choices[0]] if line.startswith("#")]
    pins = {choice: [line for line in lines if line and not line.startswith("#")] for choice, lines in locked.items()}
    every = sorted({pin for lines in pins.values() for pin in lines}, key=lambda pin: pin.split("==")[0].lower())
    out, open_condition = list(header), None
    for pin in every:
        having = [choice for choice in choices if pin in pins[choice]]
        condition = None
        if len(having) < len(choices):
            condition = " or ".join(f'cookiecutter.async_consumer == "{choice}"' for choice in having)
        if condition != open_condition:
            if open_condition:
                out.append("{%- endif %}")
            if condition:
                out.append("{%- if " + condition + " %}")
            open_condition = condition
        out.append(pin)
    if open_condition:
        out.append("{%- endif %}")
    return "\n".join(out) + "\n"


def main():
    choices = json.loads((TEMPLATE / "cookiecutter.json").read_text())["async_consumer"]
    with tempfile.TemporaryDirectory() as tmp:
        locked = {choice: lock(choice, Path(tmp)) for choice in choices}
    for name in FILES:
        (SOURCE / name).write_text(merge({choice: files[name] for choice, files in locked.items()}))


if __name__ == "__main__":
    main()
