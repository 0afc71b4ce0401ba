"""Work directories, per-run uids ("slots") and symlink-safe collection of produced files."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import pwd
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from alchemist.sandbox.base import FileMap, SandboxUnavailable, write_files

DEFAULT_BASE = Path(os.environ.get("ALCHEMIST_SANDBOX_DIR", "/tmp/alchemist-sandbox"))
UID_BASE = 61000
SLOTS = 64


def ensure_private_dir(path: Path, mode: int) -> Path:
    """Create `path` (owned by us, `mode`) or accept it only if it already is exactly that.

    Refuses a symlink or a directory owned by someone else: a local user could otherwise
    pre-create the base and read or swap every work dir.
    """
    with contextlib.suppress(FileExistsError):
        path.mkdir(parents=True, mode=mode)
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        raise SandboxUnavailable(
            f"sandbox directory {path} is not a directory owned by uid {os.geteuid()}; "
            "remove it or set ALCHEMIST_SANDBOX_DIR"
        )
    if stat.S_IMODE(st.st_mode) != mode:
        os.chmod(path, mode)
    return path


@dataclass
class Slot:
    """One sandbox uid reserved for one run (RLIMIT_NPROC is per uid, so one run per uid)."""

    uid: int
    gid: int
    _fd: int

    def release(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)


def _uid_is_free(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return True
    return False  # never run untrusted code as a real account


def acquire_slot(lock_dir: Path, uid_base: int, slots: int, timeout: float = 60.0) -> Slot:
    """Reserve a free uid in [uid_base, uid_base + slots) with an flock held for the run."""
    ensure_private_dir(lock_dir, 0o700)
    deadline = time.monotonic() + timeout
    start = os.getpid() % slots  # spread concurrent processes over the range
    while True:
        for i in range(slots):
            uid = uid_base + (start + i) % slots
            if not _uid_is_free(uid):
                continue
            fd = os.open(lock_dir / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                    continue
                raise
            return Slot(uid=uid, gid=uid, _fd=fd)
        if time.monotonic() >= deadline:
            raise SandboxUnavailable(f"all {slots} sandbox slots stayed busy for {timeout:.0f} s")
        time.sleep(0.05)


def slot_is_busy(lock_dir: Path, uid: int) -> bool:
    """True while some run (in any process) holds the slot of `uid`."""
    try:
        fd = os.open(lock_dir / f"{uid}.lock", os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops the probe lock if we got it
    return False


def remove_stale_dirs(base: Path, lock_dir: Path, uids: range) -> list[Path]:
    """Delete work dirs left behind by a caller that died mid-run (its slot is free now).

    Only directories owned by a sandbox uid whose slot nobody holds are touched, so live
    runs in other processes are never disturbed.
    """
    removed: list[Path] = []
    for entry in os.scandir(base):
        if not entry.name.startswith(("run-", "probe-")):
            continue
        try:
            owner = entry.stat(follow_symlinks=False).st_uid
        except OSError:
            continue
        if (
            owner in uids
            and entry.is_dir(follow_symlinks=False)
            and not slot_is_busy(lock_dir, owner)
        ):
            remove_workdir(Path(entry.path))
            removed.append(Path(entry.path))
    return removed


def make_workdir(base: Path, files: FileMap, owner: int | None) -> Path:
    """Fresh 0700 work dir under `base` holding `files`, chowned to `owner` when given."""
    work = Path(tempfile.mkdtemp(prefix="run-", dir=base))
    try:
        write_files(work, files)
    except BaseException:
        remove_workdir(work)
        raise
    if owner is not None:
        # Everything here was just written by us, so no symlink can be in the way yet.
        for dirpath, dirnames, filenames in os.walk(work):
            os.lchown(dirpath, owner, owner)
            for name in (*dirnames, *filenames):
                os.lchown(os.path.join(dirpath, name), owner, owner)
    return work


def remove_workdir(work: Path) -> None:
    """Delete a work dir; rmtree never follows symlinks, and unreadable dirs are reopened."""

    def retry(func: object, path: str, _exc: object) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(path), 0o700)
            os.chmod(path, 0o700, follow_symlinks=False)
        with contextlib.suppress(OSError):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)

    shutil.rmtree(work, onerror=retry)


class CollectBudget:
    def __init__(self, max_bytes: int) -> None:
        self.left = max_bytes
        self.warnings: list[str] = []


def _open_dir_beneath(root_fd: int, parts: tuple[str, ...]) -> int:
    fd = os.dup(root_fd)
    try:
        for part in parts:
            nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = nxt
    except OSError:
        os.close(fd)
        raise
    return fd


def _read_regular(dir_fd: int, name: str, rel: str, budget: CollectBudget) -> bytes | None:
    # O_NONBLOCK: a FIFO planted by the sandbox must not hang the host.
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError as exc:
        budget.warnings.append(f"collect: {rel} unreadable ({exc.strerror}), skipped")
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            budget.warnings.append(f"collect: {rel} is not a regular file, skipped")
            return None
        if st.st_size > budget.left:
            budget.warnings.append(
                f"collect: {rel} ({st.st_size} bytes) exceeds the collect budget"
            )
            return None
        chunks: list[bytes] = []
        size = 0
        while size <= st.st_size:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)[: budget.left]
        budget.left -= len(data)
        return data
    finally:
        os.close(fd)


def _walk_fd(
    dir_fd: int, prefix: str, budget: CollectBudget, depth: int
) -> Iterator[tuple[str, bytes]]:
    if depth > 32:
        budget.warnings.append(f"collect: {prefix} nested too deep, skipped")
        return
    for entry in sorted(os.listdir(dir_fd)):
        rel = f"{prefix}/{entry}"
        try:
            st = os.stat(entry, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            try:
                sub = os.open(entry, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
            except OSError:
                continue
            try:
                yield from _walk_fd(sub, rel, budget, depth + 1)
            finally:
                os.close(sub)
        elif stat.S_ISREG(st.st_mode):
            data = _read_regular(dir_fd, entry, rel, budget)
            if data is not None:
                yield rel, data
        else:
            budget.warnings.append(f"collect: {rel} is a symlink or special file, skipped")


def collect_files(
    work: Path, paths: list[str], max_bytes: int
) -> tuple[dict[str, bytes], list[str]]:
    """Read `paths` (files or directories, relative to `work`) without following symlinks.

    Every component is opened with O_NOFOLLOW, so a link planted by the sandbox (to the
    host's secrets, or a directory elsewhere) is skipped, never read.
    """
    budget = CollectBudget(max_bytes)
    found: dict[str, bytes] = {}
    root_fd = os.open(work, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        for raw in paths:
            rel = PurePosixPath(raw)
            parts = tuple(p for p in rel.parts if p not in ("", "."))
            if rel.is_absolute() or ".." in parts or not parts:
                budget.warnings.append(
                    f"collect: {raw!r} is not a relative path inside the work dir"
                )
                continue
            try:
                parent = _open_dir_beneath(root_fd, parts[:-1])
            except OSError:
                budget.warnings.append(f"collect: {raw} not found (or behind a symlink)")
                continue
            try:
                name = parts[-1]
                try:
                    st = os.stat(name, dir_fd=parent, follow_symlinks=False)
                except FileNotFoundError:
                    budget.warnings.append(f"collect: {raw} not found")
                    continue
                key = "/".join(parts)
                if stat.S_ISDIR(st.st_mode):
                    sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)
                    try:
                        found.update(_walk_fd(sub, key, budget, 0))
                    finally:
                        os.close(sub)
                elif stat.S_ISREG(st.st_mode):
                    data = _read_regular(parent, name, key, budget)
                    if data is not None:
                        found[key] = data
                else:
                    budget.warnings.append(f"collect: {raw} is a symlink or special file, skipped")
            finally:
                os.close(parent)
    finally:
        os.close(root_fd)
    return found, budget.warnings
