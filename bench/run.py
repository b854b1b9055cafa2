"""Benchmarks of the generated project, measured side by side in one run: `make bench` (see BENCHMARKS.md).

    python bench/run.py [web] [image] [template] [tasks] [--smoke] [--rounds N] ...

With no part named, every part runs. Results go to .cache/bench/bench-<time>.json and .md, and to
latest.json / latest.md beside them. --smoke is a short pass that checks the harness works; its numbers are
labelled as such and mean nothing. --results DIR writes elsewhere (the smoke test uses its own directory).
Nothing here is a test: no number is compared with a threshold.
"""

import argparse
import datetime
import json
import sys
import time
import traceback
from pathlib import Path

from common import RESULTS, machine

PARTS = ["web", "image", "template", "tasks"]
FULL = {"rounds": 5, "duration": 15, "connections": 32, "threads": 2, "workers": 2, "pause": 2.0, "repeats": 5}
SMOKE = {"rounds": 1, "duration": 1, "connections": 8, "threads": 1, "workers": 2, "pause": 0.0, "repeats": 1}


def arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", choices=[[], *PARTS], help="parts to run (default: all)")
    parser.add_argument("--smoke", action="store_true", help="a short pass: checks the harness, measures nothing")
    for name, value in FULL.items():
        parser.add_argument(f"--{name}", type=type(value), default=None, help=f"default {value} (smoke: {SMOKE[name]})")
    parser.add_argument("--results", default=str(RESULTS), help="where results go (default: .cache/bench)")
    parser.add_argument("--work", default=None, help="scratch directory for rendered projects (default: RESULTS/work)")
    parser.add_argument(
        "--cookiecutter-django",
        default=None,
        metavar="PATH",
        help="a cookiecutter-django checkout or git directory: adds its generated project to the web part",
    )
    parser.add_argument(
        "--suite-args", default=None, help="pytest arguments for the template suite's wall time (default: all)"
    )
    options = parser.parse_args(argv)
    defaults = SMOKE if options.smoke else FULL
    for name, value in defaults.items():
        if getattr(options, name) is None:
            setattr(options, name, value)
    if options.suite_args is None:
        options.suite_args = "tests/test_render.py" if options.smoke else ""
    options.parts = options.parts or PARTS
    options.results = Path(options.results).resolve()
    options.work = options.work or str(options.results / "work")
    return options


def part_module(name):
    if name == "web":
        import web

        return web.measure, web.markdown
    if name == "image":
        import image

        return image.measure, image.markdown
    if name == "template":
        import template

        return template.measure, template.markdown
    import tasks

    return tasks.measure, tasks.markdown


def report(results):
    label = "SMOKE PASS (harness check only; these numbers are not measurements)" if results["smoke"] else "Run"
    lines = [f"# Benchmarks: {label}", "", f"- date: {results['date']}"]
    lines += [f"- {name}: {value}" for name, value in results["machine"].items()]
    lines.append(f"- command: `{results['command']}`")
    for name, part in results["parts"].items():
        lines += ["", f"## {name}", ""]
        if "error" in part:
            lines += ["Failed:", "", "```", part["error"].rstrip(), "```"]
            continue
        lines += [f"- {key}: {value}" for key, value in part.get("settings", {}).items()]
        if part.get("table"):
            lines += ["", part["table"]]
        lines += [f"- {note}" for note in part.get("notes", [])]
    return "\n".join(lines) + "\n"


def main(argv):
    options = arguments(argv)
    started = datetime.datetime.now(datetime.UTC)
    results = {
        "smoke": options.smoke,
        "date": started.isoformat(timespec="seconds"),
        "command": " ".join(["python", "bench/run.py", *argv]),
        "machine": machine(),
        "parts": {},
    }
    failed = False
    for name in options.parts:
        measure, markdown = part_module(name)
        began = time.monotonic()
        print(f"[bench] {name} ...", flush=True)
        try:
            part = measure(options)
        except BaseException as error:  # pytest's skip (a missing tool) is a BaseException too
            if isinstance(error, KeyboardInterrupt):
                raise
            failed = True
            part = {"error": "".join(traceback.format_exception(error))}
        else:
            part["table"] = markdown(part) if markdown and part.get("rows") else ""
        part["seconds"] = round(time.monotonic() - began, 1)
        results["parts"][name] = part
        print(f"[bench] {name}: {'failed' if 'error' in part else 'done'} in {part['seconds']} s", flush=True)
    options.results.mkdir(parents=True, exist_ok=True)
    stem = ("smoke-" if options.smoke else "bench-") + started.strftime("%Y%m%dT%H%M%SZ")
    text = report(results)
    for target in (stem, "latest"):
        (options.results / f"{target}.json").write_text(json.dumps(results, indent=2) + "\n")
        (options.results / f"{target}.md").write_text(text)
    print(text)
    print(f"[bench] results: {options.results / stem}.json and .md")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
