"""Regeneration: a project made with cruft picks up a later template change and keeps the user's own edits."""

import json
import re
import shutil

from project import SOURCE, TEMPLATE, run, tool

README_TEMPLATE = (TEMPLATE / "README.md").read_text()
README_PROJECT = (SOURCE / "README.md").read_text()


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


def generated_repository(tmp_path):
    """A template repository and a project made from it with cruft, committed: (template, project)."""
    template = copy_template(tmp_path / "template")
    run([tool("cruft"), "create", "--no-input", "--output-dir", tmp_path / "out", template])
    project = tmp_path / "out" / "my_project"
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "generated")
    return template, project


def test_cruft_update_refuses_a_project_with_uncommitted_changes(tmp_path):
    """The README's first step: commit (or stash) before updating."""
    _, project = generated_repository(tmp_path)
    (project / "config" / "settings.py").write_text("# work in progress\n")
    result = run([tool("cruft"), "update", "-y"], cwd=project, check=False)
    assert result.returncode != 0
    assert "clean" in result.stdout + result.stderr
    assert "clean git tree" in README_TEMPLATE
    assert "clean git tree" in README_PROJECT


def test_a_conflicting_template_change_leaves_markers_resolved_as_the_readmes_say(tmp_path):
    cruft = tool("cruft")
    template, project = generated_repository(tmp_path)
    settings = project / "config" / "settings.py"
    settings.write_text(settings.read_text().replace('TIME_ZONE = "UTC"', 'TIME_ZONE = "Europe/Berlin"'))
    git(project, "commit", "-q", "-am", "our time zone")
    template_settings = template / "{{cookiecutter.project_slug}}" / "config" / "settings.py"
    template_settings.write_text(template_settings.read_text().replace('TIME_ZONE = "UTC"', 'TIME_ZONE = "Asia/Tokyo"'))
    git(template, "commit", "-q", "-am", "template v2: another time zone")

    run([cruft, "update", "-y"], cwd=project)
    # As documented: git status lists the conflicted files; each holds both sides between markers.
    assert "UU config/settings.py" in git(project, "status", "--short").stdout
    text = settings.read_text()
    for marker in ("<<<<<<< ours", "=======", ">>>>>>> theirs"):
        assert marker in text
        assert marker.split()[0] in README_TEMPLATE
        assert marker.split()[0] in README_PROJECT
    # Keep our line, drop the markers, then git add and commit, as the READMEs say.
    resolved = re.sub(r"<<<<<<< ours\n(.*?)=======\n.*?>>>>>>> theirs\n", r"\1", text, flags=re.DOTALL)
    settings.write_text(resolved)
    assert not list(project.rglob("*.rej"))
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "template v2")
    assert 'TIME_ZONE = "Europe/Berlin"' in settings.read_text()
    run([cruft, "check"], cwd=project)
    for step in ("git add", "*.rej", "cruft update"):
        assert step in README_TEMPLATE, step
        assert step in README_PROJECT, step
