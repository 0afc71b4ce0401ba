"""Fixtures for attacks on the sandbox: each test asserts the attack failed AND the host is
untouched. Every test runs against each isolating backend available here (bubblewrap; the
unshare fallback when root; Docker when an engine is reachable, skipped otherwise)."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from alchemist.sandbox import (
    DockerSandbox,
    Limits,
    LocalSandbox,
    Sandbox,
    SandboxUnavailable,
    leftover_processes,
)

BACKENDS = ["bwrap", "unshare", "docker"]


def _make(kind: str, base: Path) -> Sandbox:
    if kind == "docker":
        return DockerSandbox()
    return LocalSandbox(backend=kind, base_dir=base)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def sandbox_base() -> Iterator[Path]:
    """A private base dir, so 'no run dir left behind' can be checked exactly."""
    base = Path(tempfile.mkdtemp(prefix="alchemist-sandbox-test-", dir="/tmp"))
    base.chmod(0o711)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session", params=BACKENDS)
def sandbox(request: pytest.FixtureRequest, sandbox_base: Path) -> Sandbox:
    try:
        return _make(request.param, sandbox_base)
    except SandboxUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def limits() -> Limits:
    """Small limits keep the whole adversarial suite fast."""
    return Limits(
        wall_seconds=3.0,
        cpu_seconds=1,
        memory_mb=1024,
        processes=16,
        output_bytes=1 << 20,
        file_size_mb=16,
        disk_mb=64,
        max_files=2000,
        tmp_mb=32,
    )


@pytest.fixture(scope="session", autouse=True)
def no_sandbox_process_after_the_suite() -> Iterator[None]:
    yield
    assert leftover_processes() == [], "sandbox processes are still running after the suite"


@pytest.fixture(autouse=True)
def host_untouched(sandbox_base: Path) -> Iterator[None]:
    """After every attack: no sandbox process survives and no run directory is left."""
    before = set(os.listdir(sandbox_base))
    yield
    assert leftover_processes() == [], "a sandbox process outlived its run"
    assert set(os.listdir(sandbox_base)) <= before | {"etc", ".slots"}, "a work dir was left behind"


@dataclass
class HostSecret:
    """A world-readable secret outside the work dir: only isolation can hide it."""

    directory: Path
    path: Path
    value: str
    victim: Path = field(init=False)

    def __post_init__(self) -> None:
        self.victim = self.directory / "victim.txt"


@pytest.fixture
def host_secret() -> Iterator[HostSecret]:
    directory = Path(tempfile.mkdtemp(prefix="alchemist-host-secret-", dir="/tmp"))
    directory.chmod(0o755)
    value = "canary-" + secrets.token_hex(16)
    path = directory / "secret.txt"
    path.write_text(value)
    path.chmod(0o644)
    secret = HostSecret(directory=directory, path=path, value=value)
    secret.victim.write_text("do not delete")
    secret.victim.chmod(0o666)
    yield secret
    assert path.read_text() == value, "the host secret was modified"
    assert secret.victim.read_text() == "do not delete", "a host file was modified"
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> str:
    """Secrets in the host process's environment that must never reach sandboxed code."""
    value = "sk-canary-" + secrets.token_hex(16)
    monkeypatch.setenv("OPENAI_API_KEY", value)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", value)
    monkeypatch.setenv("ALCHEMIST_TEST_SECRET", value)
    return value


@dataclass
class Listener:
    port: int
    accepted: list[tuple[str, int]]


@pytest.fixture
def loopback_listener() -> Iterator[Listener]:
    """A TCP listener on the host's 127.0.0.1 that records every connection it gets."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.1)
    accepted: list[tuple[str, int]] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, addr = server.accept()
            except OSError:
                continue
            accepted.append(addr)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield Listener(port=server.getsockname()[1], accepted=accepted)
    stop.set()
    thread.join(timeout=2)
    server.close()
