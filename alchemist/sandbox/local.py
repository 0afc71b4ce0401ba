"""`LocalSandbox`: bubblewrap (or `unshare` as root) + rlimits + a per-run uid.

What one run looks like (bubblewrap, launched as root):

* a free uid in 61000..61063 is locked for the run (RLIMIT_NPROC counts per uid, so each
  concurrent run needs its own), and a fresh 0700 work dir is chowned to it;
* `prlimit ... -- bwrap ...` is started as that uid, in a new session, with a minimal
  environment (the child could read the launcher's env from /proc/1/environ);
* bwrap unshares every namespace (no network at all, own PID 1), shows only /usr, the
  Python runtime (read-only), a private /tmp and the work dir, drops all capabilities and
  forbids nested user namespaces;
* the runner enforces wall clock, output cap and work-dir size, kills the process group,
  and then kills every process still owned by the uid before reading files back.

Not root: bwrap runs as the current user; RLIMIT_NPROC then also counts the user's own
processes (the limit is raised by their current number) and the uid sweep is skipped (the
PID namespace still takes every sandbox process down with bwrap).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from alchemist.sandbox.base import FileMap, Limits, RunResult, SandboxUnavailable
from alchemist.sandbox.process import (
    Outcome,
    kill_uids,
    processes_of_uids,
    rlimit_table,
    run_monitored,
)
from alchemist.sandbox.workdir import (
    DEFAULT_BASE,
    SLOTS,
    UID_BASE,
    Slot,
    acquire_slot,
    collect_files,
    ensure_private_dir,
    make_workdir,
    remove_stale_dirs,
    remove_workdir,
    slot_is_busy,
)

log = logging.getLogger(__name__)

Backend = Literal["bwrap", "unshare", "none"]

WORKSPACE = "/workspace"
INNER_UID = 1000
# bwrap's outer process runs as the slot uid too, so it gets one process on top of the
# budget; the unshare launcher is root's and not counted.
LAUNCHER_PROCESSES = {"bwrap": 1, "unshare": 0, "none": 0}
# The launcher itself gets nothing but this: anything else could be read back from
# /proc/1/environ inside the sandbox.
LAUNCHER_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE", re.IGNORECASE)

PASSWD = (
    "root:x:0:0:root:/nonexistent:/usr/sbin/nologin\n"
    f"sandbox:x:{INNER_UID}:{INNER_UID}:sandbox:/tmp:/usr/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
)
GROUP = f"root:x:0:\nsandbox:x:{INNER_UID}:\nnogroup:x:65534:\n"
HOSTS = "127.0.0.1 localhost sandbox\n::1 localhost\n"


def runtime_paths() -> list[Path]:
    """Directories the sandbox needs read-only besides /usr: the running venv (and base
    interpreter when it is not Debian's)."""
    paths: list[Path] = []
    for prefix in (sys.prefix, sys.base_prefix):
        real = Path(os.path.realpath(prefix))
        if real == Path("/usr") or Path("/usr") in real.parents or real in paths:
            continue
        paths.append(real)
    return paths


def sandbox_env(runtime: Sequence[Path], home: str, extra: Mapping[str, str]) -> dict[str, str]:
    """The allow-listed environment of sandboxed code: no inherited variable at all."""
    path = ":".join([*(f"{p}/bin" for p in runtime), "/usr/bin", "/bin"])
    env = {
        "PATH": path,
        "HOME": home,
        "TMPDIR": "/tmp" if home == "/tmp" else home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",  # a killed run still shows what it printed
        "PYTHONNOUSERSITE": "1",
        "PYTHONHASHSEED": "0",  # replays must be bit-for-bit
        # RLIMIT_NPROC counts threads and RLIMIT_AS counts every arena and stack.
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NUMEXPR_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",
    }
    for key, value in extra.items():
        if SECRET_NAME.search(key):
            raise ValueError(f"refusing to pass {key} into a sandbox: it looks like a secret")
        env[key] = value
    return env


def _tasks_of_uid(uid: int) -> int:
    """Processes + threads of `uid` (what RLIMIT_NPROC counts)."""
    total = 0
    for pid in processes_of_uids([uid]):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"Threads:"):
                    total += int(line.split()[1])
                    break
    return total


def _etc_files(base: Path) -> Path:
    """Synthetic /etc/passwd, group and hosts (so `getpass`, `localhost` work inside)."""
    etc = base / "etc"
    etc.mkdir(mode=0o755, exist_ok=True)
    for name, text in (("passwd", PASSWD), ("group", GROUP), ("hosts", HOSTS)):
        target = etc / name
        if not target.exists() or target.read_text() != text:
            tmp = etc / f".{name}.{os.getpid()}"
            tmp.write_text(text)
            tmp.chmod(0o644)
            tmp.replace(target)
    return etc


def bwrap_argv(
    command: list[str],
    *,
    work: Path,
    etc: Path,
    runtime: Sequence[Path],
    env: Mapping[str, str],
    tmp_bytes: int,
) -> list[str]:
    """The bubblewrap command line (see shared/notes/sandbox.md for why each flag)."""
    argv = [
        shutil.which("bwrap") or "bwrap",
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        # The command is PID 1 of its namespace, so the outer bwrap reaps it and wait4()
        # sees its CPU time and peak RSS (bwrap's own init exits without being reaped).
        # Cost: PID 1 ignores SIGXCPU, so the CPU limit ends with the hard-limit SIGKILL.
        "--as-pid-1",
        "--cap-drop",
        "ALL",
        "--uid",
        str(INNER_UID),
        "--gid",
        str(INNER_UID),
        "--hostname",
        "sandbox",
        "--clearenv",
    ]
    for key, value in env.items():
        argv += ["--setenv", key, value]
    argv += [
        "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/lib", "/lib",
        "--symlink", "usr/lib64", "/lib64",
        "--symlink", "usr/bin", "/bin",
        "--symlink", "usr/sbin", "/sbin",
        "--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache",
        "--ro-bind", str(etc / "passwd"), "/etc/passwd",
        "--ro-bind", str(etc / "group"), "/etc/group",
        "--ro-bind", str(etc / "hosts"), "/etc/hosts",
    ]  # fmt: skip
    argv += [
        "--proc", "/proc",
        "--dev", "/dev",
        "--size", str(tmp_bytes), "--tmpfs", "/tmp",
        # bwrap's own tmpfs for / and /dev have no size limit (a memory bomb made of
        # files), so both end read-only and the writable tmpfs mounts get a size.
        "--size", str(min(tmp_bytes, 64 << 20)), "--tmpfs", "/dev/shm",
    ]  # fmt: skip
    # after the private /tmp: a checkout (and its .venv) may itself live under /tmp
    for path in runtime:
        argv += ["--ro-bind", str(path), str(path)]
    argv += [
        "--bind", str(work), WORKSPACE,
        "--remount-ro", "/dev",
        "--remount-ro", "/",
        "--chdir", WORKSPACE,
        "--",
        *command,
    ]  # fmt: skip
    return argv


# Runs as root inside fresh mount/net/pid/ipc/uts namespaces: builds a new root from an
# allow-list (like bwrap does), then drops to the slot uid inside a chroot. The shell stays
# PID 1 so the command is not PID 1 (which would ignore SIGXCPU).
UNSHARE_SCRIPT = r"""
set -eu
R=$1; W=$2; U=$3; T=$4; E=$5; n=$6; shift 6
mount -t tmpfs -o mode=0755,size=8m tmpfs "$R"
mkdir -p "$R/usr" "$R/etc" "$R/proc" "$R/dev" "$R/tmp" "$R/workspace"
mount --bind /usr "$R/usr"
mount -o remount,bind,ro,nosuid,nodev "$R/usr"
ln -s usr/lib "$R/lib"; ln -s usr/lib64 "$R/lib64"; ln -s usr/bin "$R/bin"; ln -s usr/sbin "$R/sbin"
cp /etc/ld.so.cache "$E/passwd" "$E/group" "$E/hosts" "$R/etc/"
mount -t tmpfs -o "size=$T,mode=1777,nosuid,nodev" tmpfs "$R/tmp"
while [ "$n" -gt 0 ]; do
  mkdir -p "$R$1"; mount --bind "$1" "$R$1"; mount -o remount,bind,ro,nosuid,nodev "$R$1"
  shift; n=$((n - 1))
done
mount --bind "$W" "$R/workspace"; mount -o remount,bind,nosuid,nodev "$R/workspace"
mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
for d in null zero full random urandom; do
  touch "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"
done
ln -s /proc/self/fd "$R/dev/fd"
mount -o remount,bind,ro "$R"
chroot "$R" /usr/bin/setpriv --reuid="$U" --regid="$U" --clear-groups --no-new-privs \
  --inh-caps=-all --bounding-set=-all -- /usr/bin/env -i -C /workspace "$@"
"""


def unshare_argv(
    command: list[str],
    *,
    newroot: Path,
    work: Path,
    uid: int,
    etc: Path,
    runtime: Sequence[Path],
    env: Mapping[str, str],
    tmp_bytes: int,
) -> list[str]:
    return [
        shutil.which("unshare") or "unshare",
        "--mount", "--net", "--pid", "--ipc", "--uts", "--fork", "--kill-child",
        "--propagation", "private",
        "--", "/bin/sh", "-c", UNSHARE_SCRIPT, "sh",
        str(newroot), str(work), str(uid), str(tmp_bytes), str(etc), str(len(runtime)),
        *(str(p) for p in runtime),
        *(f"{k}={v}" for k, v in env.items()),
        *command,
    ]  # fmt: skip


_probe_cache: dict[tuple[object, ...], str | None] = {}


def _probe(argv: list[str], user: int | None) -> str | None:
    """Run a trivial sandboxed command; None when it works, else the reason."""
    try:
        done = subprocess.run(
            argv,
            env=LAUNCHER_ENV,
            user=user,
            group=user,
            extra_groups=[] if user is not None else None,
            capture_output=True,
            timeout=30,
            cwd="/",
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit code {done.returncode}"
    return None


class LocalSandbox:
    """The embedded default sandbox (see the module docstring).

    backend: "auto" picks bubblewrap, else `unshare` (root only, weaker, said in every
    result's warnings), else refuses with `SandboxUnavailable` unless `allow_unsafe=True`
    (then plain subprocess + rlimits, no isolation of files or network).
    """

    name = "local"

    def __init__(
        self,
        *,
        backend: Literal["auto", "bwrap", "unshare", "none"] = "auto",
        allow_unsafe: bool = False,
        runtime: Sequence[Path] | None = None,
        base_dir: Path | None = None,
        uid_base: int = UID_BASE,
        slots: int = SLOTS,
        env: Mapping[str, str] | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.as_root = os.geteuid() == 0
        self.runtime = [Path(p) for p in (runtime if runtime is not None else runtime_paths())]
        self.uid_base = uid_base
        self.slots = slots
        self.default_limits = limits or Limits()
        self.extra_env = dict(env or {})
        sandbox_env(self.runtime, "/tmp", self.extra_env)  # reject secrets early
        default_base = DEFAULT_BASE if self.as_root else Path(f"{DEFAULT_BASE}-{os.geteuid()}")
        # Root-owned 0711: sandbox uids can reach their own dir but cannot list the others.
        self.base_dir = ensure_private_dir(Path(base_dir or default_base), 0o711)
        self.lock_dir = Path(f"{DEFAULT_BASE}-slots") if self.as_root else self.base_dir / ".slots"
        self.etc = _etc_files(self.base_dir)
        if self.as_root:
            remove_stale_dirs(self.base_dir, self.lock_dir, self.uids)
        self.warnings: list[str] = []
        self.backend: Backend = self._choose(backend, allow_unsafe)

    # -- backend selection -------------------------------------------------------------

    def _probe_argv(self, backend: Backend, uid: int | None, scratch: list[Path]) -> list[str]:
        """A full sandboxed `python -c "import sys"`: proves the runtime is readable too."""
        python = [str(self.runtime[0] / "bin" / "python")] if self.runtime else ["/usr/bin/python3"]
        command = [*python, "-c", "import sys"]
        work = Path(tempfile.mkdtemp(prefix="probe-", dir=self.base_dir))
        scratch.append(work)
        if uid is not None:
            os.chown(work, uid, uid)
        env = sandbox_env(self.runtime, "/tmp", {})
        if backend == "bwrap":
            return bwrap_argv(
                command, work=work, etc=self.etc, runtime=self.runtime, env=env, tmp_bytes=1 << 20
            )
        newroot = Path(tempfile.mkdtemp(prefix="root-", dir=self.base_dir))
        scratch.append(newroot)
        return unshare_argv(
            command,
            newroot=newroot,
            work=work,
            uid=uid if uid is not None else os.geteuid(),
            etc=self.etc,
            runtime=self.runtime,
            env=env,
            tmp_bytes=1 << 20,
        )

    def _probe_backend(self, backend: Backend) -> str | None:
        key = (backend, self.as_root, tuple(self.runtime), self.uid_base)
        if key in _probe_cache:
            return _probe_cache[key]
        if backend == "bwrap" and not shutil.which("bwrap"):
            reason: str | None = "bubblewrap (bwrap) is not installed"
        elif backend == "unshare" and not self.as_root:
            reason = "the unshare fallback needs root"
        elif backend == "unshare" and not (shutil.which("unshare") and shutil.which("setpriv")):
            reason = "unshare/setpriv (util-linux) are not installed"
        else:
            slot = self._slot()
            scratch: list[Path] = []
            uid = slot.uid if slot else None
            try:
                # The unshare launcher stays root (it mounts); bwrap starts as the slot uid.
                argv = self._probe_argv(backend, uid, scratch)
                reason = _probe(argv, uid if backend == "bwrap" else None)
            finally:
                for d in scratch:
                    remove_workdir(d)
                if slot:
                    slot.release()
            if reason and backend == "bwrap" and self.runtime:
                reason += f" (can uid {self.uid_base}+ read the runtime {self.runtime[0]}?)"
        _probe_cache[key] = reason
        return reason

    def _choose(self, wanted: str, allow_unsafe: bool) -> Backend:
        reasons: list[str] = []
        candidates: list[Backend] = ["bwrap", "unshare"] if wanted == "auto" else [wanted]  # type: ignore[list-item]
        for backend in candidates:
            if backend == "none":
                break
            reason = self._probe_backend(backend)
            if reason is None:
                if backend == "unshare":
                    why = f"bubblewrap unavailable ({reasons[0]}): " if reasons else ""
                    self.warnings.append(
                        f"{why}using the unshare fallback (root launcher + allow-list "
                        "chroot; about 2.5x bubblewrap's start-up time)"
                    )
                    log.warning(self.warnings[-1])
                return backend
            reasons.append(f"{backend}: {reason}")
        if allow_unsafe or wanted == "none":
            if not allow_unsafe:
                raise SandboxUnavailable(
                    "backend 'none' runs code without isolation: pass allow_unsafe=True"
                )
            self.warnings.append(
                "UNSAFE: no isolation (rlimits only); generated code can read files and use the network"
            )
            log.warning(self.warnings[-1])
            return "none"
        raise SandboxUnavailable(
            "no sandbox isolation available ("
            + "; ".join(reasons)
            + "): install bubblewrap, or set ALCHEMIST_SANDBOX=unsafe to run generated code unisolated"
        )

    # -- one run ---------------------------------------------------------------------

    def _slot(self) -> Slot | None:
        if not self.as_root:
            return None
        return acquire_slot(self.lock_dir, self.uid_base, self.slots)

    @property
    def uids(self) -> range:
        """The uids sandboxed processes run as (root mode)."""
        return range(self.uid_base, self.uid_base + self.slots)

    def run(
        self,
        command: list[str],
        files: FileMap,
        limits: Limits | None = None,
        collect: list[str] | None = None,
    ) -> RunResult:
        if not command:
            raise ValueError("empty command")
        limits = limits or self.default_limits
        slot = self._slot()
        uid = slot.uid if slot else None
        work: Path | None = None
        newroot: Path | None = None
        try:
            if uid is not None and self.backend == "none":
                # Without a PID namespace a crashed caller can leave children behind; they
                # would eat this run's process budget.
                kill_uids([uid])
            work = make_workdir(self.base_dir, files, uid)
            extra = LAUNCHER_PROCESSES[self.backend]
            if uid is None:  # not root: the user's own processes count against NPROC too
                extra += _tasks_of_uid(os.geteuid()) + 8
            rlimits = rlimit_table(limits, extra_processes=extra)
            if self.backend == "none":
                (work / ".tmp").mkdir()
                if uid is not None:
                    os.chown(work / ".tmp", uid, uid)
                env = sandbox_env(self.runtime, str(work / ".tmp"), self.extra_env)
                env["HOME"] = str(work)
                argv, cwd = command, str(work)
            elif self.backend == "bwrap":
                env = LAUNCHER_ENV
                argv = bwrap_argv(
                    command,
                    work=work,
                    etc=self.etc,
                    runtime=self.runtime,
                    env=sandbox_env(self.runtime, "/tmp", self.extra_env),
                    tmp_bytes=limits.tmp_mb * 1024 * 1024,
                )
                cwd = "/"
            else:
                assert uid is not None  # the unshare backend needs root, hence a slot
                newroot = Path(tempfile.mkdtemp(prefix="root-", dir=self.base_dir))
                env = LAUNCHER_ENV
                argv = unshare_argv(
                    command,
                    newroot=newroot,
                    work=work,
                    uid=uid,
                    etc=self.etc,
                    runtime=self.runtime,
                    env=sandbox_env(self.runtime, "/tmp", self.extra_env),
                    tmp_bytes=limits.tmp_mb * 1024 * 1024,
                )
                cwd = "/"
            # The unshare launcher must stay root to mount; it drops to the uid itself.
            launch_uid = None if self.backend == "unshare" else uid

            def sweep() -> None:
                if uid is not None:
                    kill_uids([uid])

            outcome = run_monitored(
                argv,
                env=env,
                cwd=cwd,
                limits=limits,
                rlimits=rlimits,
                user=launch_uid,
                group=launch_uid,
                watch_dir=work,
                on_kill=sweep,
                sweep_after_exit=self.backend == "none",
            )
            files_out, collect_warnings = (
                collect_files(work, collect, limits.collect_mb * 1024 * 1024)
                if collect
                else ({}, [])
            )
        finally:
            if work is not None:
                remove_workdir(work)
            if newroot is not None:
                with contextlib.suppress(OSError):
                    newroot.rmdir()
            if slot is not None:
                slot.release()
        return _result(
            outcome, files_out, f"{self.name}:{self.backend}", [*self.warnings, *collect_warnings]
        )


class SubprocessSandbox(LocalSandbox):
    """No isolation at all: rlimits, a scrubbed env, a dedicated uid when root, and the
    process-group kill. Only for machines where nothing better exists, chosen explicitly
    (`ALCHEMIST_SANDBOX=unsafe`)."""

    name = "unsafe"

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("backend", "none")
        kwargs.setdefault("allow_unsafe", True)
        super().__init__(**kwargs)  # type: ignore[arg-type]


def _result(
    outcome: Outcome, files: dict[str, bytes], sandbox: str, warnings: list[str]
) -> RunResult:
    def text(data: bytes, truncated: bool) -> str:
        decoded = data.decode("utf-8", errors="replace")
        if truncated:
            decoded += f"\n[alchemist: output truncated at {len(data)} bytes]"
        return decoded

    return RunResult(
        exit_code=outcome.exit_code,
        stdout=text(outcome.stdout, outcome.stdout_truncated),
        stderr=text(outcome.stderr, outcome.stderr_truncated),
        stdout_truncated=outcome.stdout_truncated,
        stderr_truncated=outcome.stderr_truncated,
        wall_seconds=round(outcome.wall_seconds, 4),
        cpu_seconds=round(outcome.cpu_seconds, 4),
        peak_memory_mb=round(outcome.peak_memory_mb, 2),
        limit_hit=outcome.killed_for,
        files=files,
        sandbox=sandbox,
        warnings=[*warnings, *outcome.warnings],
    )


def leftover_processes(uid_base: int = UID_BASE, slots: int = SLOTS) -> list[int]:
    """Pids running as a sandbox uid whose slot no run holds: processes that escaped a
    finished run (tests assert this is empty). Runs in progress elsewhere are not counted."""
    lock_dir = Path(f"{DEFAULT_BASE}-slots")
    uids = range(uid_base, uid_base + slots)
    by_uid: dict[int, list[int]] = {}
    for pid in processes_of_uids(uids):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"Uid:"):
                    by_uid.setdefault(int(line.split()[1]), []).append(pid)
                    break
    return sorted(
        pid for uid, pids in by_uid.items() if not slot_is_busy(lock_dir, uid) for pid in pids
    )
