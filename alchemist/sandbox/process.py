"""Launch one sandboxed process tree and watch it: output caps, wall clock, disk, rusage.

Shared by every local backend (bubblewrap, unshare, unsafe subprocess). The backends only
differ in the argv they build and the uid they launch as.
"""

from __future__ import annotations

import contextlib
import os
import resource
import selectors
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from alchemist.sandbox.base import LimitName, Limits

READ_CHUNK = 65536
# How often the work dir is measured for the disk / file-count limit while a run is alive.
DISK_SCAN_SECONDS = 0.1
# After the main process exits, how long stragglers may keep the pipes open (unsafe mode).
DRAIN_SECONDS = 0.3
# Memory is sampled from /proc while the run lives (the exit takes VmHWM with it), so a
# short run is sampled densely: a 20 ms Python start-up would slip between 0.1 s scans.
EARLY_SAMPLE_SECONDS = 0.005
EARLY_SAMPLE_UNTIL = 0.3

SIGNAL_EXIT = 128  # exit code convention for "killed by signal N": 128 + N, as shells do


@dataclass
class Outcome:
    """Raw result of one monitored process tree."""

    exit_code: int
    stdout: bytes
    stderr: bytes
    stdout_truncated: bool
    stderr_truncated: bool
    wall_seconds: float
    cpu_seconds: float
    peak_memory_mb: float
    killed_for: LimitName | None = None
    warnings: list[str] = field(default_factory=list)


def rlimit_table(limits: Limits, extra_processes: int = 0) -> list[tuple[int, int, int]]:
    """(resource, soft, hard) for one run.

    The CPU hard limit equals the soft one: the command runs as PID 1 of its namespace,
    which ignores SIGXCPU, so the kernel's SIGKILL at the hard limit is what stops it.
    """
    mb = 1024 * 1024
    return [
        (resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds),
        (resource.RLIMIT_AS, limits.memory_mb * mb, limits.memory_mb * mb),
        (
            resource.RLIMIT_NPROC,
            limits.processes + extra_processes,
            limits.processes + extra_processes,
        ),
        (resource.RLIMIT_FSIZE, limits.file_size_mb * mb, limits.file_size_mb * mb),
        (resource.RLIMIT_CORE, 0, 0),  # a SIGXCPU core dump would land in the work dir
        (resource.RLIMIT_NOFILE, 1024, 1024),
    ]


_PRLIMIT_FLAGS = {
    resource.RLIMIT_CPU: "--cpu",
    resource.RLIMIT_AS: "--as",
    resource.RLIMIT_NPROC: "--nproc",
    resource.RLIMIT_FSIZE: "--fsize",
    resource.RLIMIT_CORE: "--core",
    resource.RLIMIT_NOFILE: "--nofile",
}


def with_rlimits(
    argv: list[str], table: Sequence[tuple[int, int, int]]
) -> tuple[list[str], Callable[[], None] | None]:
    """Apply rlimits through util-linux `prlimit` when present, else through preexec_fn.

    `prlimit` is preferred: preexec_fn runs Python between fork and exec, which is unsafe
    when the caller has other threads (the agents do).
    """
    prlimit = shutil.which("prlimit", path="/usr/bin:/bin")
    if prlimit:
        flags = [f"{_PRLIMIT_FLAGS[res]}={soft}:{hard}" for res, soft, hard in table]
        return [prlimit, *flags, "--", *argv], None

    def apply() -> None:
        for res, soft, hard in table:
            resource.setrlimit(res, (soft, hard))

    return argv, apply


def classify_exit(
    exit_code: int, stderr: bytes, cpu_seconds: float, limits: Limits
) -> LimitName | None:
    """Which limit (if any) explains a non-zero exit. Heuristic where the kernel gives no tag."""
    if exit_code == 0:
        return None
    if exit_code == SIGNAL_EXIT + signal.SIGXCPU or (
        # CPU time is accounted in ticks: a kill at the limit may read a hair below it.
        exit_code == SIGNAL_EXIT + signal.SIGKILL and cpu_seconds >= limits.cpu_seconds - 0.05
    ):
        return "cpu"
    tail = stderr[-8192:]
    if exit_code == SIGNAL_EXIT + signal.SIGXFSZ or b"File too large" in tail:
        return "file_size"
    if b"No space left on device" in tail:
        return "disk"
    if any(
        marker in tail
        for marker in (b"MemoryError", b"bad_alloc", b"Cannot allocate memory", b"out of memory")
    ):
        return "memory"
    if b"Resource temporarily unavailable" in tail and any(
        word in tail for word in (b"fork", b"thread", b"Thread", b"spawn", b"BlockingIOError")
    ):
        return "processes"
    return None


def _scan_exceeds(root: Path, max_bytes: int, max_entries: int) -> bool:
    """True when the tree under `root` holds more than max_bytes or max_entries.

    Never follows symlinks and stops early, so a hostile tree costs at most max_entries stats.
    """
    total = 0
    entries = 0
    stack = [str(root)]
    while stack:
        path = stack.pop()
        try:
            with os.scandir(path) as it:
                for entry in it:
                    entries += 1
                    if entries > max_entries:
                        return True
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += st.st_blocks * 512
                    if total > max_bytes:
                        return True
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            continue
    return False


def _status_kb(pid: int | str, field: bytes) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(field):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _descendants(root: int) -> list[int]:
    """`root` and every process below it (via /proc/PID/task/TID/children)."""
    found: list[int] = []
    stack = [root]
    while stack and len(found) < 4096:
        pid = stack.pop()
        found.append(pid)
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as fh:
                    stack.extend(int(child) for child in fh.read().split())
            except (OSError, ValueError):
                continue
    return found


class _MemoryWatch:
    """Peak memory of a process tree, sampled from /proc.

    wait4()'s ru_maxrss cannot be used alone: a forked child inherits the parent's RSS
    high-water mark and keeps it across exec, so every run would report at least the
    caller's own peak. VmHWM in /proc belongs to the current image only.
    """

    def __init__(self, root: int) -> None:
        self.root = root
        self.peak_kb = 0

    def sample(self) -> None:
        total_rss = 0
        for pid in _descendants(self.root):
            self.peak_kb = max(self.peak_kb, _status_kb(pid, b"VmHWM:"))
            total_rss += _status_kb(pid, b"VmRSS:")
        self.peak_kb = max(self.peak_kb, total_rss)


class _Capped:
    """Bytes buffer that keeps the first `cap` bytes and remembers whether more came."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.chunks: list[bytes] = []
        self.size = 0
        self.truncated = False

    def add(self, data: bytes) -> bool:
        """Append; returns True once the cap is exceeded."""
        room = self.cap - self.size
        if len(data) > room:
            self.truncated = True
            data = data[: max(room, 0)]
        if data:
            self.chunks.append(data)
            self.size += len(data)
        return self.truncated

    def value(self) -> bytes:
        return b"".join(self.chunks)


def run_monitored(
    argv: list[str],
    *,
    env: dict[str, str],
    cwd: str,
    limits: Limits,
    rlimits: Sequence[tuple[int, int, int]],
    user: int | None = None,
    group: int | None = None,
    watch_dir: Path | None = None,
    on_kill: Callable[[], None] | None = None,
    sweep_after_exit: bool = True,
) -> Outcome:
    """Run argv in its own session, enforce wall clock / output / disk, return its Outcome.

    `on_kill` is called after the process group is killed (backends use it to sweep the
    sandbox uid, which also reaches children that left the group with setsid()), and
    after a normal exit too unless `sweep_after_exit` is False: with a PID namespace the
    kernel has already killed every process of the run by the time its launcher is reaped.
    """
    full_argv, preexec = with_rlimits(argv, rlimits)
    inherited_kb = _status_kb("self", b"VmHWM:")
    started = time.monotonic()
    proc = subprocess.Popen(
        full_argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        user=user,
        group=group,
        extra_groups=[] if user is not None else None,
        start_new_session=True,
        close_fds=True,
        preexec_fn=preexec,
    )
    assert proc.stdout is not None and proc.stderr is not None
    out = _Capped(limits.output_bytes)
    err = _Capped(limits.output_bytes)
    killed_for: LimitName | None = None
    pidfd = os.pidfd_open(proc.pid)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, out)
    sel.register(proc.stderr, selectors.EVENT_READ, err)
    sel.register(pidfd, selectors.EVENT_READ, None)
    open_streams = 2
    exited_at: float | None = None
    deadline = started + limits.wall_seconds
    memory = _MemoryWatch(proc.pid)
    ticks = [
        started + EARLY_SAMPLE_SECONDS * (i + 1)
        for i in range(int(EARLY_SAMPLE_UNTIL / EARLY_SAMPLE_SECONDS))
    ]
    next_scan = started + DISK_SCAN_SECONDS

    def kill(reason: LimitName | None) -> None:
        nonlocal killed_for
        if killed_for is None:
            killed_for = reason
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        if on_kill is not None:
            on_kill()

    try:
        while open_streams or exited_at is None:
            now = time.monotonic()
            if exited_at is None and now >= deadline:
                kill("wall")
                break
            if exited_at is not None and now >= exited_at + DRAIN_SECONDS:
                break  # only detached stragglers hold the pipes now; stop listening
            wake = (
                min(deadline, next_scan, *ticks[:1])
                if exited_at is None
                else exited_at + DRAIN_SECONDS
            )
            for key, _ in sel.select(max(wake - now, 0.0)):
                if key.data is None:
                    sel.unregister(pidfd)
                    exited_at = time.monotonic()
                    continue
                data = os.read(key.fd, READ_CHUNK)
                if not data:
                    sel.unregister(key.fileobj)
                    open_streams -= 1
                elif key.data.add(data):
                    kill("output")
            if killed_for is not None:
                break
            now = time.monotonic()
            if exited_at is None and ticks and now >= ticks[0]:
                memory.sample()
                ticks = [t for t in ticks if t > now]
            if exited_at is None and now >= next_scan:
                memory.sample()
                if watch_dir is not None and _scan_exceeds(
                    watch_dir, limits.disk_mb * 1024 * 1024, limits.max_files
                ):
                    kill("disk")
                    break
                next_scan = time.monotonic() + DISK_SCAN_SECONDS
    finally:
        # Whatever happened, the group goes: stragglers of a finished run die here too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        sel.close()
        os.close(pidfd)
        proc.stdout.close()
        proc.stderr.close()
        if on_kill is not None and sweep_after_exit and killed_for is None:
            on_kill()

    if os.WIFSIGNALED(status):
        exit_code = SIGNAL_EXIT + os.WTERMSIG(status)
    else:
        exit_code = os.WEXITSTATUS(status)
    cpu = usage.ru_utime + usage.ru_stime
    # ru_maxrss only tells something about the sandbox when it beats what it inherited.
    peak_kb = max(memory.peak_kb, usage.ru_maxrss if usage.ru_maxrss > inherited_kb + 1024 else 0)
    stderr = err.value()
    reason = killed_for or classify_exit(exit_code, stderr, cpu, limits)
    return Outcome(
        exit_code=exit_code,
        stdout=out.value(),
        stderr=stderr,
        stdout_truncated=out.truncated,
        stderr_truncated=err.truncated,
        wall_seconds=wall,
        cpu_seconds=cpu,
        peak_memory_mb=peak_kb / 1024.0,
        killed_for=reason,
    )


def processes_of_uids(uids: Iterable[int]) -> list[int]:
    """Live (non-zombie) pids whose real uid is one of `uids`.

    Reads /proc/PID/status rather than the owner of /proc/PID, which a process can hide by
    making itself non-dumpable.
    """
    wanted = set(uids)
    found: list[int] = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:  # raw fds: this runs after every run, over every process on the machine
            fd = os.open(f"/proc/{name}/status", os.O_RDONLY | os.O_CLOEXEC)
            try:
                status = os.read(fd, 1024)
            finally:
                os.close(fd)
        except OSError:
            continue
        uid = state = None
        for line in status.splitlines():
            if line.startswith(b"State:"):
                state = line.split()[1:2]
            elif line.startswith(b"Uid:"):
                uid = int(line.split()[1])
                break
        if uid in wanted and state != [b"Z"]:
            found.append(int(name))
    return found


def kill_uids(uids: Iterable[int], timeout: float = 2.0) -> list[int]:
    """SIGKILL every process of `uids` until none is left; returns the pids still alive."""
    wanted = list(uids)
    deadline = time.monotonic() + timeout
    while True:
        alive = processes_of_uids(wanted)
        if not alive or time.monotonic() >= deadline:
            return alive
        for pid in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.005)
