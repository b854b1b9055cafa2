"""A real Docker engine for the container tests, and local stand-ins for the python:X.Y-slim base images.

No container registry is reachable here, so `python:X.Y-slim` is built once from Debian's packages (mmdebstrap)
plus the pyenv build of that Python copied into /usr/local, as in the official image, and cached as a tarball.
When no engine answers, a private dockerd is started with all its state in a temporary directory and stopped
afterwards. It gets no bridge and touches no iptables: builds and containers use the host network, which also
reaches the host's PostgreSQL and Redis on 127.0.0.1.
"""

import contextlib
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from project import PYTHONS, SHARED_CACHE, TEMPLATE, require, run

# Debian's own client: it speaks BuildKit (DOCKER_BUILDKIT=1); the newer client first on PATH has no buildx.
DOCKER = Path("/usr/bin/docker")
DOCKERD = Path("/usr/sbin/dockerd")
MMDEBSTRAP = Path("/usr/bin/mmdebstrap")
CACHE = SHARED_CACHE / "base-images"
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
# What the official slim image carries: CA certificates, netbase, tzdata and the libraries CPython links to.
RUNTIME_PACKAGES = [
    "ca-certificates",
    "netbase",
    "tzdata",
    "libbz2-1.0",
    "libexpat1",
    "libffi8",
    "liblzma5",
    "libncursesw6",
    "libreadline8",
    "libsqlite3-0",
    "libssl3",
    "libtirpc3",
    "libuuid1",
    "zlib1g",
]
# Outgoing TLS here is re-signed by a local CA that only the host's bundle holds; pip inside a venv reads these.
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
CA_IN_IMAGE = "/etc/ssl/certs/ca-certificates.crt"
RECIPE_VERSION = "2"  # bump to rebuild every cached base image


class Docker:
    """The docker client bound to one engine."""

    def __init__(self, host):
        self.host = host
        self.env = {**os.environ, "DOCKER_HOST": host, "DOCKER_BUILDKIT": "1", "BUILDKIT_PROGRESS": "plain"}
        self.env.pop("DOCKER_CONTEXT", None)

    def __call__(self, *args, check=True, timeout=900, input=None):
        if input is None:
            return run([DOCKER, *args], env=self.env, check=check, timeout=timeout)
        return subprocess.run(
            [str(DOCKER), *map(str, args)], env=self.env, input=input, capture_output=True, timeout=timeout, check=check
        )

    def answers(self):
        return self("version", "--format", "{{.Server.Version}}", check=False, timeout=20).returncode == 0

    def has_image(self, ref):
        return self("image", "inspect", ref, check=False).returncode == 0


def _stop(process, pidfile_dir):
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)
    # dockerd unmounts its layers on a clean stop; lazily detach anything a killed one left behind.
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for mount in sorted((m for m in mounts if m.startswith(str(pidfile_dir))), reverse=True):
        subprocess.run(["umount", "-l", mount], check=False, capture_output=True)
    shutil.rmtree(pidfile_dir, ignore_errors=True)


_RUNNING = []  # engines this process started and has not stopped yet: nested users share one


@contextlib.contextmanager
def engine():
    """Yield a Docker client: the running engine if one answers, else a private dockerd stopped on exit."""
    if _RUNNING:
        yield _RUNNING[-1]
        return
    require(DOCKER.exists() and DOCKERD.exists(), "Debian's docker.io is not installed (make system-deps)")
    for host in filter(None, [os.environ.get("DOCKER_HOST"), "unix:///var/run/docker.sock"]):
        docker = Docker(host)
        if docker.answers():
            yield docker
            return
    require(os.geteuid() == 0, "starting dockerd needs root")
    # Short path: unix socket paths are limited to 108 bytes, and containerd puts its sockets under exec-root.
    state = Path(tempfile.mkdtemp(prefix="dat-dockerd-", dir="/tmp"))
    log = (state / "dockerd.log").open("w")
    process = subprocess.Popen(
        [
            DOCKERD,
            "--data-root",
            state / "data",
            "--exec-root",
            state / "exec",
            "--pidfile",
            state / "dockerd.pid",
            "-H",
            f"unix://{state}/docker.sock",
            # No bridge and no iptables rules: nothing on the host network changes, and several engines can
            # coexist. Builds and containers use --network host.
            "--bridge",
            "none",
            "--iptables=false",
            "--ip-masq=false",
            # Root may lack CAP_SYS_RESOURCE (it does here): containers must not ask for more than we have.
            "--default-ulimit",
            "nofile={}:{}".format(*resource.getrlimit(resource.RLIMIT_NOFILE)),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    docker = Docker(f"unix://{state}/docker.sock")
    try:
        deadline = time.monotonic() + 60
        while not docker.answers():
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"dockerd did not start:\n{(state / 'dockerd.log').read_text()[-3000:]}")
            time.sleep(0.5)
        _RUNNING.append(docker)
        yield docker
    finally:
        if docker in _RUNNING:
            _RUNNING.remove(docker)
        _stop(process, state)
        log.close()


def pyenv_prefix(version):
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    prefix = root / "versions" / PYTHONS[version]
    require((prefix / "bin" / f"python{version}").exists(), f"pyenv has no Python {PYTHONS[version]} at {prefix}")
    return prefix


def _rootfs_tarball(name, suite, packages, hooks, extra_key=""):
    """A Debian root filesystem tarball made by mmdebstrap, cached under a name that hashes its recipe."""
    recipe = "\n".join([RECIPE_VERSION, suite, *packages, *hooks, extra_key])
    target = CACHE / f"{name}-{suite}-{hashlib.sha256(recipe.encode()).hexdigest()[:12]}.tar"
    if target.exists():
        return target
    require(MMDEBSTRAP.exists(), "mmdebstrap is not installed (make system-deps)")
    CACHE.mkdir(parents=True, exist_ok=True)
    # Unique per process (parallel sessions share the cache); mmdebstrap picks the format by the suffix.
    partial = target.with_name(f"{target.stem}.{os.getpid()}.partial.tar")
    args = [
        MMDEBSTRAP,
        "--quiet",
        "--variant=minbase",
        "--include=" + ",".join(packages),
        "--dpkgopt=path-exclude=/usr/share/doc/*",
        "--dpkgopt=path-include=/usr/share/doc/*/copyright",
        "--dpkgopt=path-exclude=/usr/share/man/*",
        "--dpkgopt=path-exclude=/usr/share/locale/*",
        *[f"--customize-hook={hook}" for hook in [*hooks, 'rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*']],
        suite,
        partial,
        MIRROR,
    ]
    run(args, timeout=1200)
    partial.rename(target)
    return target


def base_image_tarball(version):
    """Build (once) a root filesystem tarball standing in for python:X.Y-slim; returns its cached path."""
    prefix = pyenv_prefix(version)
    stdlib = f"usr/local/lib/python{version}"
    hooks = [
        # CPython in /usr/local, as in the official image, without its test suite, GUI modules or any package
        # this machine added to site-packages (pip stays, as in the official image).
        f"tar -C {prefix} --exclude=./lib/python{version}/test --exclude=./lib/python{version}/idlelib"
        f" --exclude=./lib/python{version}/tkinter --exclude=./lib/python{version}/turtledemo"
        f" --exclude=./lib/python{version}/site-packages --exclude='libpython*.a' --exclude='*.opt-?.pyc'"
        ' -cf - . | tar -C "$1/usr/local" -xf -',
        f'mkdir -p "$1/{stdlib}/site-packages"',
        f"cp -a {prefix}/lib/python{version}/site-packages/pip {prefix}/lib/python{version}/site-packages/pip-*"
        f' "$1/{stdlib}/site-packages/"',
        'chroot "$1" ldconfig',
        f'cp {HOST_CA_BUNDLE} "$1{CA_IN_IMAGE}"',
        'chroot "$1" python3 -c "import ssl, sqlite3, ctypes, lzma, bz2, zlib, uuid, readline, venv"',
    ]
    name = f"python-{PYTHONS[version]}-slim"
    return _rootfs_tarball(name, SUITE, RUNTIME_PACKAGES, hooks, extra_key=HOST_CA_BUNDLE.read_text())


def ensure_base_image(docker, version):
    """Make `python:X.Y-slim` available to the engine; a real one already there is used as it is."""
    ref = f"python:{version}-slim"
    if docker.has_image(ref):
        return ref
    tarball = base_image_tarball(version)
    changes = [
        "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
        "ENV LANG=C.UTF-8",
        f"ENV PYTHON_VERSION={PYTHONS[version]}",
        f"ENV SSL_CERT_FILE={CA_IN_IMAGE}",
        f"ENV PIP_CERT={CA_IN_IMAGE}",
        'CMD ["python3"]',
    ]
    docker("import", *[arg for change in changes for arg in ("--change", change)], tarball, ref)
    return ref


# Stand-ins for the compose file's service images, from Debian's packages: PostgreSQL 17 is in trixie (bookworm
# has 15), Redis 7 in bookworm. Only what docker-compose.yml relies on is reproduced: POSTGRES_USER/PASSWORD/DB
# on first start, pg_isready and redis-cli for the healthchecks, the data directories as volumes.
POSTGRES_ENTRYPOINT = Path(__file__).parent / "stand_ins" / "postgres-entrypoint.sh"
SERVICE_STAND_INS = {
    "postgres:17": {
        "suite": "trixie",
        "packages": ["postgresql-17"],
        "hooks": [f'install -m 0755 {POSTGRES_ENTRYPOINT} "$1/usr/local/bin/docker-entrypoint.sh"'],
        "changes": [
            "ENV PATH=/usr/lib/postgresql/17/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "ENV PGDATA=/var/lib/postgresql/data",
            'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]',
            "EXPOSE 5432",
        ],
    },
    "redis:7": {
        "suite": SUITE,
        "packages": ["redis-server"],
        "hooks": ['mkdir -p "$1/data"'],
        "changes": ['CMD ["redis-server", "--protected-mode", "no", "--dir", "/data"]', "EXPOSE 6379"],
    },
}


def ensure_service_image(docker, ref):
    """Make a compose service image (postgres:17, redis:7) available; a real one already there is used."""
    if docker.has_image(ref):
        return ref
    spec = SERVICE_STAND_INS[ref]
    key = POSTGRES_ENTRYPOINT.read_text() if ref.startswith("postgres") else ""
    tarball = _rootfs_tarball(ref.replace(":", "-"), spec["suite"], spec["packages"], spec["hooks"], key)
    docker("import", *[arg for change in spec["changes"] for arg in ("--change", change)], tarball, ref)
    return ref


# ---------------------------------------------------------------------------------------------------------------
# Generated projects built into images (conftest's `images` fixture builds each combination once per session).

GIT_SHA = "0123456789abcdef0123456789abcdef01234567"
BENCH = TEMPLATE / ".cache" / "bench"


def build(docker, context, tag, *, target="runtime"):
    started = time.monotonic()
    result = docker(
        "build", "--network", "host", "--progress", "plain", "--target", target,
        "--build-arg", f"GIT_SHA={GIT_SHA}", "--tag", tag, context,
    )  # fmt: skip
    return result.stdout + result.stderr, time.monotonic() - started


class Image:
    """One generated project built into its runtime image (and, on request, its test stage)."""

    def __init__(self, docker, project, version):
        self.docker, self.project, self.version = docker, project, version
        self.tag = f"dat-{project.name.replace('_', '-')}-py{version.replace('.', '')}"
        self.base = ensure_base_image(docker, version)
        self.log, self.seconds = build(docker, project, f"{self.tag}:runtime")
        self.ref = f"{self.tag}:runtime"

    def inspect(self):
        return json.loads(self.docker("image", "inspect", self.ref).stdout)[0]

    def python(self, code, *argv):
        """Run a Python snippet in the image (sys.argv[1:] = argv)."""
        return self.docker("run", "--rm", "--network", "host", "--entrypoint", "python", self.ref, "-c", code, *argv)


def record_size(image, key):
    """Print the image size and keep a record of it (measured, never asserted)."""
    size = image.inspect()["Size"]
    record = {"combo": key, "image_bytes": size, "image_mb": round(size / 1e6, 1), "build_seconds": image.seconds}
    record["base_bytes"] = json.loads(image.docker("image", "inspect", image.base).stdout)[0]["Size"]
    BENCH.mkdir(parents=True, exist_ok=True)
    (BENCH / f"docker-image-{key}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"\n[bench] {key}: image {record['image_mb']} MB (base {round(record['base_bytes'] / 1e6, 1)} MB)")
