"""In-container runner for `DockerSandbox` (standard library only; sent as `python -c`).

Docker cannot copy files into or out of a tmpfs mount, so one container run speaks this
protocol over its stdio:

* stdin: one JSON header line {"argv", "collect", "output_bytes", "collect_bytes",
  "wall_seconds"}, then an uncompressed tar of the input files;
* stdout: exactly one JSON line at the end: exit code, base64 stdout/stderr of the command
  (capped), CPU seconds and peak RSS from wait4, the limit this runner enforced (wall or
  output), and the collected files (base64, regular files only, symlinks never followed).

Everything the command prints goes to pipes read here, never straight to the container's
stdout. The runner shares the command's uid, so a hostile command can still garble its
own result; the host treats an unparsable result as a failed run.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import selectors
import signal
import stat
import subprocess
import sys
import tarfile
import time

MAX_HEADER = 1 << 20
MAX_DEPTH = 32


def extract(stream: object, root: str) -> None:
    """Unpack regular files and directories only, refusing anything that climbs out."""
    real_root = os.path.realpath(root)
    with tarfile.open(fileobj=stream, mode="r|") as tar:  # type: ignore[call-overload]
        for member in tar:
            name = os.path.normpath(member.name)
            target = os.path.realpath(os.path.join(real_root, name))
            if name.startswith(("/", "..")) or not target.startswith(real_root + os.sep):
                raise ValueError(f"unsafe path in input tar: {member.name!r}")
            if member.isdir():
                os.makedirs(target, exist_ok=True)
            elif member.isfile():
                os.makedirs(os.path.dirname(target), exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                with open(target, "wb") as fh:
                    while chunk := source.read(1 << 20):
                        fh.write(chunk)
            else:
                raise ValueError(f"input tar may only hold files and directories: {member.name!r}")


def run(argv: list[str], output_bytes: int, wall_seconds: float) -> dict[str, object]:
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    buffers = {proc.stdout.fileno(): bytearray(), proc.stderr.fileno(): bytearray()}
    truncated = dict.fromkeys(buffers, False)
    limit_hit = None
    sel = selectors.DefaultSelector()
    for fd in buffers:
        sel.register(fd, selectors.EVENT_READ)
    deadline = started + wall_seconds
    while sel.get_map():
        left = deadline - time.monotonic()
        if left <= 0:
            limit_hit = "wall"
            break
        for key, _ in sel.select(left):
            data = os.read(key.fd, 65536)
            if not data:
                sel.unregister(key.fd)
                continue
            buf = buffers[key.fd]
            room = output_bytes - len(buf)
            if len(data) > room:
                truncated[key.fd] = True
                limit_hit = "output"
            buf += data[: max(room, 0)]
        if limit_hit:
            break
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0  # reaped above; keeps Popen.__del__ quiet
    exit_code = 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    return {
        "exit_code": exit_code,
        "stdout": base64.b64encode(bytes(buffers[out_fd])).decode(),
        "stderr": base64.b64encode(bytes(buffers[err_fd])).decode(),
        "stdout_truncated": truncated[out_fd],
        "stderr_truncated": truncated[err_fd],
        "wall_seconds": time.monotonic() - started,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_memory_mb": usage.ru_maxrss / 1024.0,
        "limit_hit": limit_hit,
    }


def collect(root: str, paths: list[str], budget: int) -> tuple[dict[str, str], list[str]]:
    """Regular files under `paths`; symlinks and special files are skipped, never followed."""
    files: dict[str, str] = {}
    warnings: list[str] = []

    def read(rel: str, depth: int) -> None:
        nonlocal budget
        full = os.path.join(root, rel)
        try:
            st = os.lstat(full)
        except OSError:
            warnings.append(f"collect: {rel} not found")
            return
        if stat.S_ISDIR(st.st_mode) and depth < MAX_DEPTH:
            for name in sorted(os.listdir(full)):
                read(f"{rel}/{name}", depth + 1)
        elif stat.S_ISREG(st.st_mode):
            if st.st_size > budget:
                warnings.append(f"collect: {rel} exceeds the collect budget")
                return
            fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as fh:
                data = fh.read(budget)
            budget -= len(data)
            files[rel] = base64.b64encode(data).decode()
        else:
            warnings.append(f"collect: {rel} is a symlink or special file, skipped")

    for raw in paths:
        rel = os.path.normpath(raw)
        if rel.startswith(("/", "..")) or rel == ".":
            warnings.append(f"collect: {raw!r} is not inside the work dir")
            continue
        # A symlinked parent directory is refused too.
        parents = rel.split(os.sep)[:-1]
        if any(os.path.islink(os.path.join(root, *parents[: i + 1])) for i in range(len(parents))):
            warnings.append(f"collect: {raw} is behind a symlink, skipped")
            continue
        read(rel, 0)
    return files, warnings


def main() -> int:
    stdin = sys.stdin.buffer
    header = json.loads(stdin.readline(MAX_HEADER))
    root = os.getcwd()
    extract(stdin, root)
    result = run(header["argv"], int(header["output_bytes"]), float(header["wall_seconds"]))
    files, warnings = collect(root, header.get("collect") or [], int(header["collect_bytes"]))
    result["files"] = files
    result["warnings"] = warnings
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
