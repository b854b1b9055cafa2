"""The generated Dockerfile and docker-compose.yml: linted, validated, and built and run by a real Docker engine.

The image is built from the generated project as a developer would build it (its `.env` with a real secret key
sits in the build context) and run against this machine's PostgreSQL and Redis over the host network.
"""

import contextlib
import json
import re
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest
import yaml
from docker_harness import DOCKER, GIT_SHA, build, ensure_service_image
from project import COMBOS, DEFAULT, combo_id, require, run, tool
from services import POSTGRES_URL, Browser, free_port, postgres_database_url, redis_db_url

PY313 = {**DEFAULT, "python_version": "3.13"}
POSTGRES = POSTGRES_URL
REDIS = redis_db_url(15)
UID = 10001

# ---------------------------------------------------------------------------------------------------------------
# Static checks: every combination, no engine needed.


def hadolint_findings(dockerfile):
    result = run([tool("hadolint"), "--format", "json", "--failure-threshold", "none", dockerfile], check=False)
    return json.loads(result.stdout)


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_hadolint_reports_nothing_at_warning_level_or_above(generated, combo):
    findings = hadolint_findings(generated(**combo) / "Dockerfile")
    assert [f for f in findings if f["level"] in ("error", "warning")] == []


def test_hadolint_does_flag_a_bad_dockerfile(tmp_path):
    # The check above can fail: an unpinned base and a root user are findings at warning level.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN cd /app && pip install django\n")
    assert {f["code"] for f in hadolint_findings(bad) if f["level"] == "warning"} >= {"DL3006", "DL3003"}


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_compose_file_validates_against_the_compose_spec(generated, combo):
    check = tool("check-jsonschema")
    run([check, "--builtin-schema", "vendor.compose-spec", generated(**combo) / "docker-compose.yml"])


def test_compose_spec_validation_rejects_a_broken_file(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  web:\n    depends_on:\n      db:\n        condition: when_it_feels_like_it\n")
    check = tool("check-jsonschema")
    assert run([check, "--builtin-schema", "vendor.compose-spec", broken], check=False).returncode != 0


def compose(project):
    return yaml.safe_load((project / "docker-compose.yml").read_text())


def test_compose_runs_production_versions_with_healthchecks(generated):
    project = generated(**DEFAULT)
    services = compose(project)["services"]
    assert set(services) == {"db", "redis", "migrate", "web", "test"}
    assert services["db"]["image"] == "postgres:17"
    assert services["redis"]["image"] == "redis:7"
    for name in ("db", "redis", "web"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    assert "pg_isready" in services["db"]["healthcheck"]["test"]
    assert services["redis"]["healthcheck"]["test"][1:] == ["redis-cli", "ping"]
    assert any("/readyz" in part for part in services["web"]["healthcheck"]["test"])


def test_compose_starts_web_only_after_healthy_services_and_a_finished_migrate(generated):
    services = compose(generated(**DEFAULT))["services"]
    assert services["web"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert (services["migrate"]["command"], services["web"]["command"]) == (["migrate"], ["web"])
    assert services["migrate"]["restart"] == "no"


def test_compose_app_services_share_the_image_settings_and_read_only_root(generated):
    project = generated(**DEFAULT)
    services = compose(project)["services"]
    slug = project.name
    for name in ("migrate", "web"):
        app = services[name]
        assert app["image"] == f"{slug}:local"
        assert app["build"] == {"context": ".", "target": "runtime"}
        assert app["env_file"] == ".env"
        assert app["environment"]["DATABASE_URL"] == f"postgres://app@db:5432/{slug}"
        assert app["environment"]["REDIS_URL"].startswith("redis://redis:6379/")
        assert (app["read_only"], app["tmpfs"]) == (True, ["/tmp"])
    assert services["test"]["build"]["target"] == "test"
    assert services["test"]["profiles"] == ["test"]  # never started by `make up`


def test_compose_publishes_only_web_and_the_database_on_loopback(generated):
    config = compose(generated(**DEFAULT))
    published = {name: service.get("ports", []) for name, service in config["services"].items()}
    assert published["web"] == ["127.0.0.1:${WEB_PORT:-8000}:8000"]
    assert all(port.startswith("127.0.0.1:") for port in published["db"])
    assert [name for name, ports in published.items() if ports and name not in ("web", "db")] == []


def test_compose_keeps_data_in_named_volumes(generated):
    config = compose(generated(**DEFAULT))
    assert set(config["volumes"]) == {"postgres-data", "redis-data"}
    assert config["services"]["db"]["volumes"] == ["postgres-data:/var/lib/postgresql/data"]
    assert config["services"]["redis"]["volumes"] == ["redis-data:/data"]


def test_debian_docker_compose_accepts_the_file(generated):
    # docker-compose 1.29 (Debian bookworm) parses and interpolates the file with its own schema.
    binary = shutil.which("docker-compose")
    require(binary is not None, "docker-compose is not installed (make system-deps)")
    project = generated(**DEFAULT)
    result = run([binary, "--profile", "test", "config"], cwd=project)
    resolved = yaml.safe_load(result.stdout)["services"]
    assert resolved["web"]["ports"] == ["127.0.0.1:8000:8000/tcp"]
    assert resolved["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert resolved["web"]["environment"]["SECRET_KEY"]  # from the generated .env


MAKE_TARGETS = {
    "up": "docker compose up --build --detach",
    "down": "docker compose down",
    "logs": "docker compose logs --follow",
    "shell": "docker compose run --rm web manage shell",
    "test-in-docker": "docker compose --profile test run --rm test python -m pytest -p no:cacheprovider",
    "image": f"docker build --build-arg GIT_SHA={GIT_SHA} --tag",
}


@pytest.mark.parametrize("target", MAKE_TARGETS, ids=lambda target: f"make {target}")
def test_makefile_container_target_runs(generated, target):
    # What each target would run (make -n); the compose and docker commands themselves are exercised below.
    result = run(["make", "-n", target, f"GIT_SHA={GIT_SHA}"], cwd=generated(**DEFAULT))
    assert MAKE_TARGETS[target] in result.stdout


def test_entrypoint_passes_shellcheck(generated):
    binary = shutil.which("shellcheck")
    require(binary is not None, "shellcheck is not installed (make system-deps)")
    run([binary, "--shell=sh", generated(**DEFAULT) / "docker-entrypoint.sh"])


def test_dockerignore_keeps_secrets_state_and_caches_out(generated):
    ignored = (generated(**DEFAULT) / ".dockerignore").read_text().splitlines()
    for pattern in (".env", ".git", ".venv", "**/__pycache__", "**/*.tfstate", "**/.terraform", "db.sqlite3"):
        assert pattern in ignored, pattern


# ---------------------------------------------------------------------------------------------------------------
# A real engine.


@contextlib.contextmanager
def database(image):
    """A fresh PostgreSQL database on the host, made and dropped through the image's own psycopg."""
    name = f"dat_docker_{secrets.token_hex(4)}"
    statement = "import psycopg, sys; psycopg.connect(sys.argv[1], autocommit=True).execute(sys.argv[2])"
    image.python(statement, f"{POSTGRES}/postgres", f'CREATE DATABASE "{name}"')
    try:
        yield postgres_database_url(name)
    finally:
        image.python(statement, f"{POSTGRES}/postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class Container:
    def __init__(self, image, *run_args, env=None, role="web"):
        self.docker, self.port = image.docker, free_port()
        env = {"SECRET_KEY": secrets.token_urlsafe(40), "ALLOWED_HOSTS": "localhost", "PORT": self.port, **(env or {})}
        env_args = [arg for name, value in env.items() for arg in ("--env", f"{name}={value}")]
        self.id = image.docker("run", "--detach", "--network", "host", *env_args, *run_args, image.ref, role).stdout
        self.id = self.id.strip()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_until_serving(self, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                return get(self.url("/healthz"), timeout=2)
            if self.state()["Status"] != "running":
                break
            time.sleep(0.3)
        raise AssertionError(f"the web role did not serve /healthz:\n{self.logs()}")

    def state(self):
        return json.loads(self.docker("inspect", "--format", "{{json .State}}", self.id).stdout)

    def logs(self):
        result = self.docker("logs", self.id)
        return result.stdout + result.stderr

    def remove(self):
        self.docker("rm", "--force", self.id, check=False)


@pytest.fixture
def containers():
    started = []

    def start(image, *run_args, **kwargs):
        started.append(Container(image, *run_args, **kwargs))
        return started[-1]

    yield start
    for container in started:
        container.remove()


@pytest.mark.parametrize("combo", [DEFAULT, PY313], ids=combo_id)
def test_image_runs_as_a_fixed_unprivileged_user(images, combo):
    image = images(combo)
    assert image.inspect()["Config"]["User"] == f"{UID}:{UID}"
    identity = image.python("import os; print(os.getuid(), os.getgid())").stdout.split()
    assert identity == [str(UID), str(UID)]


@pytest.mark.parametrize("combo", [DEFAULT, PY313], ids=combo_id)
def test_image_uses_the_chosen_python(images, combo):
    assert images(combo).python("import sys; print(sys.version)").stdout.startswith(combo["python_version"] + ".")


@pytest.mark.parametrize("combo", [DEFAULT, PY313], ids=combo_id)
def test_web_role_serves_liveness(images, containers, combo):
    web = containers(images(combo))
    assert web.wait_until_serving() == (200, {"status": "ok"})


def test_image_metadata_port_healthcheck_label_and_roles(images):
    config = images(DEFAULT).inspect()["Config"]
    assert config["ExposedPorts"] == {"8000/tcp": {}}
    assert config["Entrypoint"] == ["/app/docker-entrypoint.sh"]
    assert config["Cmd"] == ["web"]
    assert "/healthz" in " ".join(config["Healthcheck"]["Test"])
    assert config["Labels"]["org.opencontainers.image.revision"] == GIT_SHA
    assert {"PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1"} <= set(config["Env"])


def test_migrate_role_then_web_role_serve_against_real_postgres_and_redis(images, containers):
    image = images(DEFAULT)
    with database(image) as url:
        env = ["--env", f"DATABASE_URL={url}", "--env", "SECRET_KEY=x", "--env", "ALLOWED_HOSTS=localhost"]
        migrate = image.docker("run", "--rm", "--network", "host", *env, image.ref, "migrate")
        assert "Applying notes.0001_initial... OK" in migrate.stdout
        web = containers(image, env={"DATABASE_URL": url, "REDIS_URL": REDIS})
        assert web.wait_until_serving() == (200, {"status": "ok"})
        ready = {"status": "ok", "failed": [], "checks": {"database": "ok", "cache": "ok"}}
        assert get(web.url("/readyz")) == (200, ready)
        # The migrated table answers through the app: the notes list is served from PostgreSQL.
        behind_alb = {"Host": "localhost", "X-Forwarded-Proto": "https"}
        request = urllib.request.Request(web.url("/notes/"), headers=behind_alb)
        assert get(request) == (200, {"notes": []})
        # Static files were collected at build time and are served by ServeStatic.
        static = urllib.request.Request(web.url("/static/admin/css/base.css"), headers=behind_alb)
        with urllib.request.urlopen(static, timeout=5) as response:
            assert response.status == 200
            assert b"body" in response.read()


def test_readiness_is_503_when_redis_is_unreachable(images, containers):
    web = containers(
        images(DEFAULT), env={"DATABASE_URL": f"{POSTGRES}/postgres", "REDIS_URL": "redis://127.0.0.1:1/0"}
    )
    web.wait_until_serving()
    status, body = get(web.url("/readyz"))
    assert (status, body["failed"]) == (503, ["cache"])


def test_web_role_serves_with_a_read_only_root_filesystem(images, containers, docker):
    env = {"DATABASE_URL": f"{POSTGRES}/postgres", "REDIS_URL": REDIS, "WEB_CONCURRENCY": "2"}
    web = containers(images(DEFAULT), "--read-only", "--tmpfs", "/tmp", env=env)
    assert web.wait_until_serving() == (200, {"status": "ok"})
    assert get(web.url("/readyz"))[0] == 200
    refused = docker("exec", web.id, "touch", "/app/written", check=False)
    assert "Read-only file system" in refused.stderr
    logs = web.logs()
    assert logs.count("Booting worker") == 2  # WEB_CONCURRENCY
    assert "control socket" not in logs.lower()  # neither listening nor failing: it is disabled


def test_web_role_logs_requests_and_stops_gracefully_on_sigterm(images, containers, docker):
    web = containers(images(DEFAULT), env={"DATABASE_URL": f"{POSTGRES}/postgres", "REDIS_URL": REDIS})
    web.wait_until_serving()
    docker("stop", "--time", "30", web.id)
    assert web.state()["ExitCode"] == 0  # exited on SIGTERM by itself: SIGKILL after 30 s would give 137
    logs = web.logs()
    assert '\\"GET /healthz HTTP/1.1\\" 200' in logs  # the access log reaches stdout, as a JSON line
    assert "Shutting down: Master" in logs


def test_image_healthcheck_reports_healthy(images, containers):
    web = containers(images(DEFAULT), "--health-interval", "1s", "--health-start-period", "1s")
    web.wait_until_serving()
    deadline = time.monotonic() + 30
    while web.state()["Health"]["Status"] != "healthy" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert web.state()["Health"]["Status"] == "healthy"


def test_entrypoint_names_the_roles_when_given_an_unknown_one(images, docker):
    result = docker("run", "--rm", images(DEFAULT).ref, "dance", check=False)
    assert result.returncode == 64
    assert "unknown role 'dance': use web, migrate, worker, lambda or manage" in result.stderr


def test_manage_role_runs_any_management_command(images, docker):
    env = ["--env", "SECRET_KEY=x", "--env", "ALLOWED_HOSTS=localhost"]
    result = docker("run", "--rm", *env, images(DEFAULT).ref, "manage", "check")
    assert "System check identified no issues" in result.stdout


def test_production_image_carries_no_test_tools(images):
    found = images(DEFAULT).python("import importlib.util as u; print([u.find_spec(m) for m in ('pytest', 'ruff')])")
    assert found.stdout.strip() == "[None, None]"


def test_project_test_suite_passes_inside_the_image(images, docker):
    image = images(DEFAULT)
    tag = f"{image.tag}:test"
    build(docker, image.project, tag, target="test")
    with database(image) as url:
        # pytest-django creates and drops test_<name>; no .env exists in the image.
        result = docker("run", "--rm", "--network", "host", "--env", f"DATABASE_URL={url}_suite",
                        "--env", f"REDIS_URL={REDIS}", tag, check=False)  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"^=+ \d+ passed in ", output, flags=re.MULTILINE), output
    assert "skipped" not in output.splitlines()[-1]


def test_no_secret_in_image_config_history_or_layers(images, docker):
    image = images(DEFAULT)
    dotenv = (image.project / ".env").read_text()
    key = re.search(r"^SECRET_KEY=(.+)$", dotenv, flags=re.MULTILINE).group(1)
    assert len(key) > 40  # the real one the template generated, in the build context's .env
    config = image.inspect()["Config"]
    assert [e for e in config["Env"] if e.split("=")[0] in ("SECRET_KEY", "DATABASE_PASSWORD", "REDIS_PASSWORD")] == []
    history = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", image.ref).stdout
    assert key not in json.dumps(image.inspect()) + history
    # The throwaway key for collectstatic is set on its RUN line only: no ENV or ARG instruction carries it.
    assert not re.search(r"^(ENV|ARG) .*SECRET_KEY", history, flags=re.MULTILINE)
    assert image.python("import os, pathlib; print(pathlib.Path('/app/.env').exists())").stdout.strip() == "False"
    # Every byte of every layer: `docker save` writes them uncompressed. The source's own text and the commit
    # label are found the same way, so the scan does see the layers' contents.
    source = next(image.project.glob("*/health/views.py")).read_text().splitlines()[0].encode()
    found = saved_image_contains(docker, image.ref, [key.encode(), source, GIT_SHA.encode()])
    assert found == {source, GIT_SHA.encode()}


def saved_image_contains(docker, ref, needles):
    """The needles found anywhere in `docker save REF`, read as a stream."""
    found, tail, total, overlap = set(), b"", 0, max(map(len, needles))
    with subprocess.Popen([str(DOCKER), "save", ref], env=docker.env, stdout=subprocess.PIPE) as save:
        while chunk := save.stdout.read(1 << 20):
            total += len(chunk)
            window = tail + chunk
            found |= {needle for needle in needles if needle in window}
            tail = window[-overlap:]
    assert save.returncode == 0
    assert total > 10_000_000, "docker save produced no image"
    return found


def test_source_only_change_reuses_the_dependency_layers(images, docker, tmp_path):
    image = images(DEFAULT)
    project = tmp_path / image.project.name
    shutil.copytree(image.project, project)
    views = next(project.glob("*/notes/views.py"))
    views.write_text(views.read_text() + "\n# a source-only edit\n")
    log, seconds = build(docker, project, f"{image.tag}:edited")
    steps, cached = {}, set()
    for line in log.splitlines():
        if match := re.match(r"#(\d+) \[([\w-]+) +\d+/\d+\] (.*)", line):
            steps[match[1]] = (match[2], match[3])
        elif match := re.match(r"#(\d+) CACHED$", line):
            cached.add(match[1])
    install = [n for n, (_, command) in steps.items() if "pip install" in command and "requirements.txt" in command]
    source = [n for n, (_, command) in steps.items() if command.startswith("COPY . .")]
    assert len(install) == 1, log
    assert install[0] in cached, log
    assert len(source) == 1, log
    assert source[0] not in cached, log  # the edit was seen
    print(f"\n[bench] rebuild after a source-only edit: {seconds:.1f} s")
    docker("image", "rm", f"{image.tag}:edited", check=False)


def test_git_sha_is_used_only_by_the_last_instructions(images, docker):
    # The commit's label comes last, so building another commit reuses every layer above it.
    history = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", images(DEFAULT).ref).stdout.splitlines()
    assert history[0].startswith(f"LABEL org.opencontainers.image.revision={GIT_SHA}")
    assert history[1] == "ARG GIT_SHA=unknown"
    assert not any("GIT_SHA" in line or GIT_SHA in line for line in history[2:])


def test_compose_up_runs_migrate_a_ready_web_and_the_consumer_and_the_suite_in_the_test_profile(
    images, docker, tmp_path
):
    """A real `docker-compose up` (Debian's 1.29) of the generated files, unchanged, on this engine, with every
    file `make up` passes (COMPOSE_FILE: the consumer's docker-compose.lambda.yml too).

    The service images are the harness's stand-ins for postgres:17 and redis:7, and the app images are the
    ones built above (tagged as compose names them): the engine here has no default bridge, so a build step
    could not run (BuildKit's cache is kept per network mode, and the harness builds over the host network)
    and `up --no-build` runs them. The network, DNS names, published ports, healthchecks, depends_on
    conditions, volumes, .env handling and the consumer's services are compose's and the engine's own. An
    export then goes through the queue: the view answers 202 and the consumer builds it.
    """
    binary = shutil.which("docker-compose")
    require(binary is not None, "docker-compose is not installed (make system-deps)")
    image = images(DEFAULT)
    for ref in ("postgres:17", "redis:7"):
        ensure_service_image(docker, ref)
    slug = image.project.name
    docker("tag", image.ref, f"{slug}:local")
    build(docker, image.project, f"{slug}:test", target="test")
    project = tmp_path / slug
    shutil.copytree(image.project, project)
    name = f"dat{secrets.token_hex(3)}"
    web_port, db_port = free_port(), free_port()
    # What the Makefile exports: every docker-compose.*.yml beside the main file.
    files = ":".join(["docker-compose.yml", *sorted(p.name for p in project.glob("docker-compose.*.yml"))])
    env = docker.env | {"WEB_PORT": str(web_port), "DB_PORT": str(db_port), "COMPOSE_FILE": files}

    def compose_run(*args, check=True):
        return run([binary, "--project-name", name, *args], cwd=project, env=env, check=check, timeout=300)

    try:
        compose_run("up", "--detach", "--no-build")
        migrate = json.loads(docker("inspect", f"{name}_migrate_1").stdout)[0]["State"]
        assert (migrate["Status"], migrate["ExitCode"]) == ("exited", 0)
        deadline = time.monotonic() + 60
        health = None
        while health != "healthy" and time.monotonic() < deadline:
            time.sleep(1)
            health = json.loads(docker("inspect", f"{name}_web_1").stdout)[0]["State"]["Health"]["Status"]
        assert health == "healthy", compose_run("logs", check=False).stdout
        ready = {"status": "ok", "failed": [], "checks": {"database": "ok", "cache": "ok"}}
        assert get(f"http://127.0.0.1:{web_port}/readyz") == (200, ready)
        notes = urllib.request.Request(f"http://127.0.0.1:{web_port}/notes/", headers={"X-Forwarded-Proto": "https"})
        assert get(notes) == (200, {"notes": []})  # the table migrate created
        poller = json.loads(docker("inspect", f"{name}_poller_1").stdout)[0]["State"]
        assert poller["Status"] == "running", compose_run("logs", "poller", check=False).stdout
        browser = Browser(f"http://127.0.0.1:{web_port}")
        token = browser.csrf_token("/admin/login/")
        status, body, _ = browser.request("POST", "/exports/", headers={"X-CSRFToken": token})
        assert status == 202, body
        export = json.loads(body)["url"]
        deadline = time.monotonic() + 60
        while json.loads(browser.request("GET", export)[1])["status"] != "done":
            assert time.monotonic() < deadline, compose_run("logs", "poller", check=False).stdout
            time.sleep(1)
        # The database is published on loopback only, with the compose file's local password.
        probe = "import psycopg, sys; print(psycopg.connect(sys.argv[1]).execute('select current_user').fetchone()[0])"
        url = f"postgresql://app:local-only-password@127.0.0.1:{db_port}/{slug}"
        assert image.python(probe, url).stdout.strip() == "app"
        published = docker("port", f"{name}_db_1").stdout.split()
        assert published[-1] == f"127.0.0.1:{db_port}"
        # What `make test-in-docker` runs, after its build step.
        pytest = ["python", "-m", "pytest", "-p", "no:cacheprovider"]
        suite = compose_run("--profile", "test", "run", "--rm", "test", *pytest)
        assert re.search(r"^=+ \d+ passed in ", suite.stdout, flags=re.MULTILINE), suite.stdout
    finally:
        compose_run("--profile", "test", "down", "--volumes", "--remove-orphans", check=False)
