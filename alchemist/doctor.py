"""`alchemist doctor`: what this machine gives the agents, measured rather than assumed.

Every isolation property is probed by running a small script in the configured sandbox
(a loopback listener it must not reach, a canary file and a canary environment variable
it must not see, the limits it must find in force). Secrets are reported as set / not set,
never printed.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import platform
import secrets
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from alchemist.sandbox import Limits, Sandbox, SandboxUnavailable, get_sandbox

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CANARY_ENV = "ALCHEMIST_DOCTOR_CANARY"
PROBE_LIMITS = Limits(wall_seconds=60, cpu_seconds=60, memory_mb=2048, processes=32)
UNLIMITED = -1  # resource.RLIM_INFINITY

PROBE = r"""
import json, os, resource, socket, sys
out = {}
def attempt(key, fn):
    try:
        out[key] = ["reached", str(fn())[:200]]
    except Exception as exc:
        out[key] = ["blocked", f"{type(exc).__name__}: {exc}"[:200]]
port, canary, project = int(sys.argv[1]), sys.argv[2], sys.argv[3]
attempt("loopback", lambda: socket.create_connection(("127.0.0.1", port), timeout=2).close())
attempt("dns", lambda: socket.getaddrinfo("pypi.org", 443)[0][4][0])
attempt("canary_file", lambda: open(canary).read())
attempt("project", lambda: open(os.path.join(project, "pyproject.toml")).read(50))
attempt("root_home", lambda: os.listdir("/root"))
attempt("write_outside", lambda: open("/usr/alchemist-doctor-probe", "w").close())
out["env"] = sorted(os.environ)
try:
    out["pid1_environ"] = open("/proc/1/environ", "rb").read().decode(errors="replace")
except OSError as exc:
    out["pid1_environ"] = ""
out["rlimits"] = {n: resource.getrlimit(getattr(resource, "RLIMIT_" + n))[0]
                  for n in ("CPU", "AS", "NPROC", "FSIZE")}
try:
    import pyomo.environ as pyo, highspy, simpy, numpy, scipy
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler
    out["stack"] = ["ok", f"scipy {scipy.__version__}; Pyomo's standard-form compiler imports"]
except Exception as exc:
    out["stack"] = ["failed", f"{type(exc).__name__}: {exc}"[:200]]
print(json.dumps(out))
"""


class _Listener:
    """A loopback TCP listener on the host that counts connections."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@contextlib.contextmanager
def _canaries() -> Iterator[tuple[Path, str]]:
    """A world-readable secret file outside any work dir and a secret env variable."""
    value = "doctor-canary-" + secrets.token_hex(12)
    directory = Path(tempfile.mkdtemp(prefix="alchemist-doctor-"))
    directory.chmod(0o755)
    path = directory / "canary.txt"
    path.write_text(value)
    path.chmod(0o644)
    previous = os.environ.get(CANARY_ENV)
    os.environ[CANARY_ENV] = value
    try:
        yield path, value
    finally:
        if previous is None:
            os.environ.pop(CANARY_ENV, None)
        else:
            os.environ[CANARY_ENV] = previous
        path.unlink(missing_ok=True)
        directory.rmdir()


def _prop(ok: bool, detail: str) -> dict[str, Any]:
    return {"ok": ok, "detail": detail}


def probe_sandbox(sandbox: Sandbox) -> dict[str, Any]:
    """Run the probe in `sandbox` and judge each isolation property from what it saw."""
    listener = _Listener()
    try:
        with _canaries() as (canary_path, canary_value):
            result = sandbox.run(
                ["python", "probe.py", str(listener.port), str(canary_path), str(PROJECT_ROOT)],
                {"probe.py": PROBE},
                PROBE_LIMITS,
            )
    finally:
        listener.close()
    if not result.ok:
        return {"probe": _prop(False, result.explain())}
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    env_leak = CANARY_ENV in seen["env"] or "OPENAI_API_KEY" in seen["env"]
    pid1_leak = canary_value in seen["pid1_environ"] or "OPENAI_API_KEY" in seen["pid1_environ"]
    limits = seen["rlimits"]
    finite = all(v != UNLIMITED for v in limits.values())

    def blocked(key: str) -> bool:
        return seen[key][0] == "blocked"

    return {
        "network_blocked": _prop(
            blocked("loopback") and blocked("dns") and listener.accepted == 0,
            f"loopback listener: {seen['loopback'][1] or 'connected'}; DNS: {seen['dns'][1]}",
        ),
        "host_files_hidden": _prop(
            blocked("canary_file") and blocked("root_home") and canary_value not in result.stdout,
            f"canary file: {seen['canary_file'][0]}; /root: {seen['root_home'][0]}",
        ),
        "project_hidden": _prop(blocked("project"), f"project files: {seen['project'][0]}"),
        "writes_confined": _prop(
            blocked("write_outside"), f"/usr write: {seen['write_outside'][0]}"
        ),
        "env_scrubbed": _prop(
            not env_leak and not pid1_leak,
            f"{len(seen['env'])} variables inside (allow-list); /proc/1/environ "
            + ("leaks" if pid1_leak else "clean"),
        ),
        "rlimits": _prop(
            finite,
            f"cpu {limits['CPU']} s, address space {limits['AS'] >> 20} MB, "
            f"processes {limits['NPROC']}, file size {limits['FSIZE'] >> 20} MB",
        ),
        "runtime": _prop(
            seen["stack"][0] == "ok", f"pyomo+highspy+simpy+numpy+scipy: {seen['stack'][1]}"
        ),
        "probe_seconds": result.wall_seconds,
    }


@contextlib.contextmanager
def _quiet_stdout_fd() -> Iterator[None]:
    """HiGHS prints its banner from C++ straight to fd 1."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def solver_versions() -> dict[str, Any]:
    def version(dist: str) -> str | None:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return None

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "pyomo": version("pyomo"),
        "highspy": version("highspy"),
        "simpy": version("simpy"),
        "numpy": version("numpy"),
    }
    try:
        import highspy

        with _quiet_stdout_fd():
            highs = highspy.Highs()
        info["highs"] = f"{highs.versionMajor()}.{highs.versionMinor()}.{highs.versionPatch()}"
    except Exception as exc:  # a broken install is what doctor is for
        info["highs"] = f"unavailable ({type(exc).__name__}: {exc})"
    try:
        import pyomo.environ as pyo

        info["appsi_highs_available"] = bool(pyo.SolverFactory("appsi_highs").available())
    except Exception as exc:
        info["appsi_highs_available"] = False
        info["appsi_highs_error"] = f"{type(exc).__name__}: {exc}"
    return info


def _without_credentials(url: str | None) -> str | None:
    """Drop any user:password@ part of a URL before showing it."""
    if not url:
        return None
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def llm_config() -> dict[str, Any]:
    """Which model the agents would use. The key is reported as set or not, never shown."""
    return {
        "openai_api_key_set": bool(os.environ.get("OPENAI_API_KEY")),
        "openai_base_url": _without_credentials(os.environ.get("OPENAI_BASE_URL")),
        "alchemist_model": os.environ.get("ALCHEMIST_MODEL") or None,
    }


def doctor_report(sandbox: Sandbox | None = None, probe: bool = True) -> dict[str, Any]:
    """Everything `alchemist doctor` shows, as plain data (JSON-serialisable)."""
    kind = (os.environ.get("ALCHEMIST_SANDBOX") or "local").strip().lower()
    section: dict[str, Any] = {"configured": kind, "available": False}
    try:
        if sandbox is None:
            # Doctor never builds an image behind the user's back.
            sandbox = get_sandbox(kind, build=False) if kind == "docker" else get_sandbox(kind)
        section["available"] = True
        section["name"] = sandbox.name
        backend = getattr(sandbox, "backend", None)
        section["backend"] = f"{sandbox.name}:{backend}" if backend else sandbox.name
        section["warnings"] = list(getattr(sandbox, "warnings", []))
        if probe:
            section["properties"] = probe_sandbox(sandbox)
    except SandboxUnavailable as exc:
        section["error"] = str(exc)
    return {"sandbox": section, "solvers": solver_versions(), "llm": llm_config()}
