"""`DockerSandbox`: the same contract as `LocalSandbox`, through the Docker SDK.

One container per run, from the image built from `sandbox_images/`: no network, read-only
root, tmpfs work dir and /tmp, memory / pids / CPU limits, all capabilities dropped,
no-new-privileges, a non-root uid and tini as PID 1. Files travel over stdio (see
`docker_runner`), because Docker cannot copy into or out of a tmpfs mount.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import socket
import tarfile
import time
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from alchemist.sandbox.base import FileMap, LimitName, Limits, RunResult, SandboxUnavailable
from alchemist.sandbox.local import sandbox_env

DEFAULT_IMAGE = "alchemist-sandbox:py3.11"
IMAGE_CONTEXT = Path(__file__).resolve().parents[2] / "sandbox_images"
RUNNER_SOURCE = (Path(__file__).with_name("docker_runner.py")).read_text()
SANDBOX_USER = "1000:1000"
# Seconds the host waits beyond the runner's own wall clock before killing the container.
HOST_GRACE = 5.0


def connect(timeout: int = 10) -> Any:
    """A pinged Docker client, or `SandboxUnavailable` with one line saying why."""
    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        import docker

        client = docker.from_env(timeout=timeout)
        client.ping()
    except Exception as exc:
        reason = _short_reason(exc)
        raise SandboxUnavailable(
            f"Docker sandbox unavailable: no Docker engine reachable at {where} ({reason}); "
            "start Docker or set ALCHEMIST_SANDBOX=local"
        ) from exc
    return client


def _short_reason(exc: BaseException) -> str:
    text = str(exc)
    for marker, reason in (
        ("FileNotFoundError", "no socket there"),
        ("No such file", "no socket there"),
        ("onnection refused", "connection refused"),
        ("PermissionError", "permission denied on the socket"),
        ("Permission denied", "permission denied on the socket"),
        ("ModuleNotFoundError", "the `docker` Python package is not installed"),
    ):
        if marker in text or marker in type(exc).__name__:
            return reason
    line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return line if len(line) <= 120 else line[:117] + "..."


def input_payload(
    command: list[str], files: FileMap, limits: Limits, collect: list[str] | None
) -> bytes:
    """Header line + tar of `files`, as `docker_runner` reads them from stdin."""
    header = {
        "argv": command,
        "collect": collect or [],
        "output_bytes": limits.output_bytes,
        "collect_bytes": limits.collect_mb * 1024 * 1024,
        "wall_seconds": limits.wall_seconds,
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel, content in sorted(files.items()):
            path = PurePosixPath(rel)
            if path.is_absolute() or ".." in path.parts:
                raise ValueError(f"file path {rel!r} escapes the work directory")
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(str(path))
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return json.dumps(header).encode() + b"\n" + buf.getvalue()


def parse_runner_output(raw: bytes, stderr: bytes, sandbox: str) -> RunResult:
    """Turn the runner's final JSON line into a `RunResult` (a broken line is a failed run)."""
    lines = [line for line in raw.splitlines() if line.strip()]
    try:
        doc = json.loads(lines[-1])
        return RunResult(
            exit_code=int(doc["exit_code"]),
            stdout=_text(base64.b64decode(doc["stdout"]), bool(doc["stdout_truncated"])),
            stderr=_text(base64.b64decode(doc["stderr"]), bool(doc["stderr_truncated"])),
            stdout_truncated=bool(doc["stdout_truncated"]),
            stderr_truncated=bool(doc["stderr_truncated"]),
            wall_seconds=round(float(doc["wall_seconds"]), 4),
            cpu_seconds=round(float(doc["cpu_seconds"]), 4),
            peak_memory_mb=round(float(doc["peak_memory_mb"]), 2),
            limit_hit=doc.get("limit_hit"),
            files={k: base64.b64decode(v) for k, v in doc.get("files", {}).items()},
            sandbox=sandbox,
            warnings=[str(w) for w in doc.get("warnings", [])],
        )
    except (IndexError, KeyError, TypeError, ValueError) as exc:
        tail = stderr.decode("utf-8", errors="replace")[-4000:]
        return RunResult(
            exit_code=125,
            stderr=f"{tail}\n[alchemist: sandbox runner produced no result: {exc}]",
            sandbox=sandbox,
        )


def _text(data: bytes, truncated: bool) -> str:
    text = data.decode("utf-8", errors="replace")
    if truncated:
        text += f"\n[alchemist: output truncated at {len(data)} bytes]"
    return text


class DockerSandbox:
    """Runs each command in a fresh container of `image` (built from `context` if absent)."""

    name = "docker"

    def __init__(
        self,
        image: str = DEFAULT_IMAGE,
        *,
        client: Any | None = None,
        build: bool = True,
        context: Path = IMAGE_CONTEXT,
        cpus: float = 1.0,
        env: Mapping[str, str] | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.client = client if client is not None else connect()
        self.image = image
        self.build = build
        self.context = Path(context)
        self.cpus = cpus
        self.extra_env = dict(env or {})
        self.default_limits = limits or Limits()
        self._image_ready = False

    def ensure_image(self) -> None:
        """Build the runtime image from `sandbox_images/` unless it already exists."""
        if self._image_ready:
            return
        import docker.errors

        try:
            self.client.images.get(self.image)
        except docker.errors.ImageNotFound:
            if not self.build:
                raise SandboxUnavailable(
                    f"Docker image {self.image} not found: build it with "
                    f"`docker build -t {self.image} {self.context}`"
                ) from None
            try:
                self.client.images.build(path=str(self.context), tag=self.image, rm=True)
            except docker.errors.DockerException as exc:
                raise SandboxUnavailable(
                    f"building {self.image} from {self.context} failed: {exc}"
                ) from exc
        self._image_ready = True

    def container_options(self, limits: Limits) -> dict[str, Any]:
        """Keyword arguments of `containers.create` for one run under `limits`."""
        from docker.types import LogConfig, Ulimit

        env = sandbox_env([], "/tmp", self.extra_env)
        env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
        # The runner's single JSON line carries stdout, stderr and files in base64.
        log_bytes = int((2 * limits.output_bytes + limits.collect_mb * 1024 * 1024) * 1.4) + (
            1 << 20
        )
        return dict(
            command=["python", "-I", "-c", RUNNER_SOURCE],
            stdin_open=True,  # with detach=False docker-py also sets StdinOnce
            network_disabled=True,
            network_mode="none",
            read_only=True,
            tmpfs={
                "/workspace": f"rw,nosuid,nodev,size={limits.disk_mb}m,mode=1777",
                "/tmp": f"rw,nosuid,nodev,size={limits.tmp_mb}m,mode=1777",
            },
            working_dir="/workspace",
            user=SANDBOX_USER,
            environment=env,
            mem_limit=f"{limits.memory_mb}m",
            memswap_limit=f"{limits.memory_mb}m",
            pids_limit=limits.processes + 2,  # + tini and the runner
            nano_cpus=int(self.cpus * 1e9),
            ulimits=[
                Ulimit(name="cpu", soft=limits.cpu_seconds, hard=limits.cpu_seconds),
                Ulimit(
                    name="fsize", soft=limits.file_size_mb << 20, hard=limits.file_size_mb << 20
                ),
                Ulimit(name="core", soft=0, hard=0),
                Ulimit(name="nofile", soft=1024, hard=1024),
            ],
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            init=True,
            hostname="sandbox",
            log_config=LogConfig(
                type="json-file", config={"max-size": str(log_bytes), "max-file": "1"}
            ),
            labels={"alchemist.sandbox": "1"},
        )

    def run(
        self,
        command: list[str],
        files: FileMap,
        limits: Limits | None = None,
        collect: list[str] | None = None,
    ) -> RunResult:
        if not command:
            raise ValueError("empty command")
        import docker.errors

        limits = limits or self.default_limits
        self.ensure_image()
        payload = input_payload(command, files, limits, collect)
        container = self.client.containers.create(self.image, **self.container_options(limits))
        limit_hit: LimitName | None = None
        started = time.monotonic()
        try:
            sock = self.client.api.attach_socket(container.id, params={"stdin": 1, "stream": 1})
            container.start()
            raw = getattr(sock, "_sock", sock)
            raw.sendall(payload)
            with contextlib.suppress(OSError):
                raw.shutdown(socket.SHUT_WR)
            sock.close()
            try:
                container.wait(timeout=limits.wall_seconds + HOST_GRACE)
            except Exception:  # requests' ReadTimeout / ConnectionError: the wall clock
                limit_hit = "wall"
                with contextlib.suppress(docker.errors.DockerException):
                    container.kill()
                container.wait(timeout=30)
            out = container.logs(stdout=True, stderr=False)
            err = container.logs(stdout=False, stderr=True)
            container.reload()
            oom = bool(container.attrs.get("State", {}).get("OOMKilled"))
        finally:
            with contextlib.suppress(docker.errors.DockerException):
                container.remove(force=True)
        result = parse_runner_output(out, err, f"{self.name}:{self.image}")
        if limit_hit:
            result.limit_hit = limit_hit
            result.wall_seconds = round(time.monotonic() - started, 4)
        elif oom and result.limit_hit is None:
            result.limit_hit = "memory"
        elif result.limit_hit is None and result.exit_code != 0:
            result.limit_hit = _classify(result, limits)
        return result


def _classify(result: RunResult, limits: Limits) -> LimitName | None:
    from alchemist.sandbox.process import classify_exit

    return classify_exit(result.exit_code, result.stderr.encode(), result.cpu_seconds, limits)
