"""Regeneration: a project made with cruft picks up a later template change and keeps the user's own edits."""

import json
import shutil

from project import TEMPLATE, run, tool


def git(cwd, *args):
    return run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args], cwd=cwd)


def copy_template(destination):
    """The template as committed: only the files git tracks, in a repository of its own."""
    tracked = run(["git", "ls-files", "-z"], cwd=TEMPLATE).stdout.split("\0")
    for name in filter(None, tracked):
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(TEMPLATE / name, target)
    git(destination, "init", "-q", "-b", "main")
    git(destination, "add", "-A")
    git(destination, "commit", "-q", "-m", "template v1")
    return destination


def test_cruft_update_merges_template_changes_and_keeps_user_edits(tmp_path):
    cruft = tool("cruft")
    template = copy_template(tmp_path / "template")
    run([cruft, "create", "--no-input", "--output-dir", tmp_path / "out", template])
    project = tmp_path / "out" / "my_project"
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "generated")
    local_settings = (project / ".env").read_text()

    settings = project / "config" / "settings.py"
    settings.write_text(settings.read_text().replace('TIME_ZONE = "UTC"', 'TIME_ZONE = "Europe/Berlin"'))
    git(project, "commit", "-q", "-am", "our time zone")

    template_settings = template / "{{cookiecutter.project_slug}}" / "config" / "settings.py"
    template_settings.write_text(template_settings.read_text() + "\nDATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024\n")
    git(template, "commit", "-q", "-am", "template v2: cap upload size")
    v2 = git(template, "rev-parse", "HEAD").stdout.strip()

    assert run([cruft, "check"], cwd=project, check=False).returncode == 1
    run([cruft, "update", "-y"], cwd=project)

    text = settings.read_text()
    assert 'TIME_ZONE = "Europe/Berlin"' in text
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024" in text
    assert json.loads((project / ".cruft.json").read_text())["commit"] == v2
    assert not list(project.rglob("*.rej")), "cruft left rejected hunks"
    assert (project / ".env").read_text() == local_settings, "the local .env and its secret must survive updates"
    run([cruft, "check"], cwd=project)
