"""Generated code trying to reach the network, the host's files and its secrets."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
from pathlib import Path

import pytest

import alchemist
from alchemist.sandbox import Limits, RunResult, Sandbox

from .conftest import HostSecret, Listener

PROJECT_ROOT = Path(alchemist.__file__).resolve().parents[1]


def run_script(sandbox: Sandbox, source: str, limits: Limits, **kwargs: object) -> RunResult:
    result = sandbox.run(["python", "attack.py"], {"attack.py": source}, limits, **kwargs)  # type: ignore[arg-type]
    assert result.limit_hit is None, result.explain() + "\n" + result.stderr
    return result


def report(result: RunResult) -> dict:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _host_ip() -> str | None:
    """A non-loopback address of this host, if it has one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent for a UDP connect
            return probe.getsockname()[0]
    except OSError:
        return None


def test_network_connect_to_host_loopback_listener(
    sandbox: Sandbox, limits: Limits, loopback_listener: Listener
) -> None:
    targets = [("127.0.0.1", loopback_listener.port), ("localhost", loopback_listener.port)]
    if ip := _host_ip():
        targets.append((ip, loopback_listener.port))
    source = f"""
import json, socket
out = {{}}
for host, port in {targets!r}:
    try:
        socket.create_connection((host, port), timeout=1).close()
        out[f"{{host}}:{{port}}"] = "CONNECTED"
    except OSError as exc:
        out[f"{{host}}:{{port}}"] = f"blocked: {{exc}}"
print(json.dumps(out))
"""
    outcome = report(run_script(sandbox, source, limits))
    assert all(v.startswith("blocked") for v in outcome.values()), outcome
    assert loopback_listener.accepted == [], "the host listener saw a connection"


def test_network_dns_and_internet(sandbox: Sandbox, limits: Limits) -> None:
    source = """
import json, socket
out = {}
for name in ("pypi.org", "example.com"):
    try:
        out[name] = socket.getaddrinfo(name, 443)[0][4][0]
    except OSError as exc:
        out[name] = f"blocked: {exc}"
for addr in (("1.1.1.1", 53), ("8.8.8.8", 443)):
    try:
        socket.create_connection(addr, timeout=1).close()
        out[addr[0]] = "CONNECTED"
    except OSError as exc:
        out[addr[0]] = f"blocked: {exc}"
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"x", ("8.8.8.8", 53))
    out["udp"] = "SENT"
except OSError as exc:
    out["udp"] = f"blocked: {exc}"
print(json.dumps(out))
"""
    outcome = report(run_script(sandbox, source, limits))
    assert all(v.startswith("blocked") for v in outcome.values()), outcome


def test_read_secret_file_created_outside_the_work_dir(
    sandbox: Sandbox, limits: Limits, host_secret: HostSecret
) -> None:
    source = f"""
import json, os
out = {{}}
for path in ({str(host_secret.path)!r}, "/tmp/" + {host_secret.directory.name!r} + "/secret.txt"):
    try:
        out[path] = open(path).read()
    except OSError as exc:
        out[path] = f"blocked: {{exc}}"
try:
    out["listdir"] = os.listdir({str(host_secret.directory)!r})
except OSError as exc:
    out["listdir"] = f"blocked: {{exc}}"
try:
    out["tmp"] = os.listdir("/tmp")
except OSError as exc:
    out["tmp"] = f"blocked: {{exc}}"
print(json.dumps(out))
"""
    result = run_script(sandbox, source, limits)
    assert host_secret.value not in result.stdout + result.stderr
    outcome = report(result)
    assert str(outcome["listdir"]).startswith("blocked")
    assert host_secret.directory.name not in str(outcome["tmp"])


def test_read_root_home(sandbox: Sandbox, limits: Limits) -> None:
    before = sorted(os.listdir("/root")) if os.access("/root", os.R_OK) else None
    source = """
import json, os, glob
out = {}
try:
    out["listdir"] = os.listdir("/root")
except OSError as exc:
    out["listdir"] = f"blocked: {exc}"
contents = []
for path in glob.glob("/root/.*") + glob.glob("/root/*") + ["/root/.bashrc", "/root/.ssh/id_rsa"]:
    try:
        contents.append(open(path).read(100))
    except OSError:
        pass
out["read"] = contents
try:
    out["shadow"] = open("/etc/shadow").read()
except OSError as exc:
    out["shadow"] = f"blocked: {exc}"
print(json.dumps(out))
"""
    outcome = report(run_script(sandbox, source, limits))
    assert outcome["listdir"] in ([],) or str(outcome["listdir"]).startswith("blocked"), outcome
    assert outcome["read"] == []
    assert str(outcome["shadow"]).startswith("blocked")
    if before is not None:
        assert sorted(os.listdir("/root")) == before


def test_read_project_files(sandbox: Sandbox, limits: Limits) -> None:
    pyproject = PROJECT_ROOT / "pyproject.toml"
    digest = hashlib.sha256(pyproject.read_bytes()).hexdigest()
    source = f"""
import json, os
out = {{}}
root = {str(PROJECT_ROOT)!r}
try:
    out["listdir"] = sorted(os.listdir(root))
except OSError as exc:
    out["listdir"] = f"blocked: {{exc}}"
for rel in ("pyproject.toml", "alchemist/__init__.py", ".git/config", "Makefile"):
    try:
        out[rel] = open(os.path.join(root, rel)).read(200)
    except OSError as exc:
        out[rel] = f"blocked: {{exc}}"
try:
    import alchemist
    out["import"] = "IMPORTED"
except ImportError as exc:
    out["import"] = f"blocked: {{exc}}"
print(json.dumps(out))
"""
    outcome = report(run_script(sandbox, source, limits))
    listing = outcome.pop("listdir")
    # Only the read-only runtime (.venv) may be visible under the project root.
    assert isinstance(listing, str) or set(listing) <= {".venv"}, listing
    assert all(str(v).startswith("blocked") for v in outcome.values()), outcome
    assert hashlib.sha256(pyproject.read_bytes()).hexdigest() == digest


def test_proc_environ_of_pid1_and_every_process(
    sandbox: Sandbox, limits: Limits, secret_env: str
) -> None:
    source = """
import glob, json
blobs = {}
for path in ["/proc/1/environ", "/proc/self/environ", *glob.glob("/proc/[0-9]*/environ"),
             *glob.glob("/proc/[0-9]*/cmdline")]:
    try:
        blobs[path] = open(path, "rb").read().decode(errors="replace")
    except OSError as exc:
        blobs[path] = f"blocked: {exc}"
print(json.dumps(blobs))
"""
    result = run_script(sandbox, source, limits)
    assert secret_env not in result.stdout + result.stderr
    assert "OPENAI_API_KEY" not in result.stdout


def test_secret_environment_variables(sandbox: Sandbox, limits: Limits, secret_env: str) -> None:
    source = "import json, os; print(json.dumps(dict(os.environ)))"
    env = report(run_script(sandbox, source, limits))
    assert secret_env not in json.dumps(env)
    for name in (
        "OPENAI_API_KEY",
        "AWS_SECRET_ACCESS_KEY",
        "ALCHEMIST_TEST_SECRET",
        "SSH_AUTH_SOCK",
    ):
        assert name not in env
    assert os.environ["OPENAI_API_KEY"] == secret_env  # the host keeps its own


def test_write_outside_the_work_dir(
    sandbox: Sandbox, limits: Limits, host_secret: HostSecret
) -> None:
    name = "alchemist-escape-" + secrets.token_hex(6)
    targets = [
        f"/tmp/{name}",
        f"/var/tmp/{name}",
        f"/dev/shm/{name}",
        f"/dev/{name}",
        f"/proc/{name}",
        f"/{name}",
        f"/etc/{name}",
        f"/usr/{name}",
        f"/root/{name}",
        str(PROJECT_ROOT / name),
        str(PROJECT_ROOT / ".venv" / name),
        str(host_secret.directory / name),
        str(host_secret.victim),
    ]
    source = f"""
import json
out = {{}}
for path in {targets!r}:
    try:
        with open(path, "w") as fh:
            fh.write("pwned")
        out[path] = "WROTE"
    except OSError as exc:
        out[path] = f"blocked: {{exc}}"
print(json.dumps(out))
"""
    outcome = report(run_script(sandbox, source, limits))
    # A write may only succeed into the sandbox's private tmpfs (/tmp), never the host's.
    # (A checkout under /tmp has its project dir there too: inside, that is the private
    # tmpfs around the read-only .venv bind, and the host check below proves it.)
    wrote = {path for path, what in outcome.items() if what == "WROTE"}
    assert all(p.startswith(("/tmp/", "/dev/shm/")) for p in wrote), outcome
    assert str(PROJECT_ROOT / ".venv" / name) not in wrote, outcome
    for path in targets:
        if path == str(host_secret.victim):
            continue
        assert not os.path.lexists(path), f"{path} appeared on the host"


def test_symlink_escape_from_the_work_dir(
    sandbox: Sandbox, limits: Limits, host_secret: HostSecret
) -> None:
    """Links planted in the work dir must neither read host files inside the sandbox nor
    make the host read (collect) or delete (clean-up) what they point at."""
    source = f"""
import json, os
os.symlink({str(host_secret.path)!r}, "leak.txt")
os.symlink({str(host_secret.directory)!r}, "leakdir")
os.symlink("/etc/shadow", "shadow.txt")
os.makedirs("out")
os.symlink({str(host_secret.path)!r}, "out/result.json")
os.symlink({str(host_secret.directory)!r}, "victimdir")
os.mkfifo("out/fifo")
out = {{}}
for path in ("leak.txt", "leakdir/secret.txt", "shadow.txt"):
    try:
        out[path] = open(path).read()
    except OSError as exc:
        out[path] = f"blocked: {{exc}}"
print(json.dumps(out))
"""
    result = run_script(
        sandbox,
        source,
        limits,
        collect=["leak.txt", "leakdir", "leakdir/secret.txt", "shadow.txt", "out", "victimdir"],
    )
    assert host_secret.value not in result.stdout
    outcome = report(result)
    assert all(str(v).startswith("blocked") for v in outcome.values()), outcome
    assert all(host_secret.value.encode() not in data for data in result.files.values())
    assert result.files == {}, result.files
    # the clean-up of the work dir did not follow "victimdir"
    assert host_secret.victim.exists() and host_secret.path.exists()


def test_input_paths_cannot_escape(
    sandbox: Sandbox, limits: Limits, host_secret: HostSecret
) -> None:
    escape = host_secret.directory / "escaped.txt"
    for bad in (
        "../../" + str(host_secret.directory.relative_to("/")) + "/escaped.txt",
        str(escape),
    ):
        with pytest.raises(ValueError):
            sandbox.run(["true"], {bad: "x"}, limits)
    assert not escape.exists()


def test_nested_namespaces_and_privileges_are_refused(sandbox: Sandbox, limits: Limits) -> None:
    """No way back to more privilege: no new user namespace, no setuid, no mount."""
    source = """
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
out = {}
for name, flag in (("userns", 0x10000000), ("netns", 0x40000000), ("mountns", 0x00020000)):
    out[name] = "ALLOWED" if libc.unshare(flag) == 0 else f"blocked errno {ctypes.get_errno()}"
try:
    os.setuid(0)
    out["setuid"] = "ALLOWED"
except OSError as exc:
    out["setuid"] = f"blocked: {exc}"
rc = libc.mount(b"none", b"/workspace", b"tmpfs", 0, None)
out["mount"] = "ALLOWED" if rc == 0 else f"blocked errno {ctypes.get_errno()}"
print(json.dumps(out))
"""
    outcome = report(run_script(sandbox, source, limits))
    assert all(str(v).startswith("blocked") for v in outcome.values()), outcome
