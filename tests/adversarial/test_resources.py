"""Generated code trying to exhaust CPU, memory, processes, output, time and disk."""

from __future__ import annotations

import io
import secrets
import shutil
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from alchemist.sandbox import Limits, LocalSandbox, RunResult, Sandbox
from alchemist.sandbox.process import processes_of_uids
from alchemist.sandbox.workdir import SLOTS, UID_BASE


def run_script(
    sandbox: Sandbox, source: str, limits: Limits, name: str = "attack.py", **files: bytes
) -> RunResult:
    return sandbox.run(["python", name], {name: source, **files}, limits)


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


class ProcessSampler:
    """Watches, from outside, the sandbox-uid processes running one uniquely named script
    (other sandbox runs on the machine, e.g. parallel test workers, are ignored)."""

    def __init__(self) -> None:
        self.script = f"attack_{secrets.token_hex(6)}.py"
        self.max_per_uid = 0
        self.seen: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _ours(self, pid: int) -> bool:
        return self.script.encode() in _cmdline(pid)

    def _loop(self) -> None:
        uids = range(UID_BASE, UID_BASE + SLOTS)
        while not self._stop.is_set():
            per_uid: dict[int, int] = {}
            for pid in processes_of_uids(uids):
                if not self._ours(pid):
                    continue
                self.seen.add(pid)
                try:
                    with open(f"/proc/{pid}/status", "rb") as fh:
                        uid = next(int(ln.split()[1]) for ln in fh if ln.startswith(b"Uid:"))
                except (OSError, StopIteration):
                    continue
                per_uid[uid] = per_uid.get(uid, 0) + 1
            self.max_per_uid = max([self.max_per_uid, *per_uid.values()])
            self._stop.wait(0.02)

    @contextmanager
    def running(self) -> Iterator[ProcessSampler]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(timeout=5)

    def survivors(self) -> list[int]:
        alive = set(processes_of_uids(range(UID_BASE, UID_BASE + SLOTS)))
        return sorted(pid for pid in self.seen & alive if self._ours(pid))


def _host_can_fork() -> bool:
    return subprocess.run(["true"], check=False).returncode == 0


def test_cpu_infinite_loop(sandbox: Sandbox, limits: Limits) -> None:
    result = run_script(sandbox, "while True:\n    pass\n", limits)
    assert result.limit_hit == "cpu", result
    assert result.exit_code != 0
    assert result.wall_seconds < limits.wall_seconds + 1


def test_allocate_4_gb(sandbox: Sandbox, limits: Limits) -> None:
    result = run_script(sandbox, "x = bytearray(4 * 1024 ** 3)\nprint(len(x))\n", limits)
    assert result.limit_hit == "memory", result
    assert result.stdout.strip() == ""
    assert result.peak_memory_mb < limits.memory_mb * 1.1


def test_allocate_gradually(sandbox: Sandbox, limits: Limits) -> None:
    source = "chunks = []\nwhile True:\n    chunks.append(bytearray(64 * 1024 ** 2))\n"
    # Zero-filling a GiB of pages takes over a CPU second here: stay clear of those limits.
    result = run_script(
        sandbox,
        source,
        limits.model_copy(update={"memory_mb": 512, "cpu_seconds": 10, "wall_seconds": 10}),
    )
    assert result.limit_hit == "memory", result
    assert result.peak_memory_mb < limits.memory_mb * 1.1


def test_fork_bomb(sandbox: Sandbox, limits: Limits) -> None:
    source = """
import os, time
forks = 0
while True:
    try:
        if os.fork() == 0:
            forks = 0
        else:
            forks += 1
    except OSError:
        time.sleep(0.001)
"""
    with ProcessSampler().running() as sampler:
        result = run_script(
            sandbox, source, limits.model_copy(update={"wall_seconds": 2.0}), sampler.script
        )
    assert result.limit_hit in ("wall", "processes"), result
    assert result.wall_seconds < 4
    if isinstance(sandbox, LocalSandbox):
        # The bomb's processes (threads count too) never exceed the per-run budget; with
        # bubblewrap its outer process (also named after the script) is one more.
        assert 0 < sampler.max_per_uid <= limits.processes + 1, sampler.max_per_uid
        assert sampler.survivors() == []
    assert _host_can_fork()


def test_100_mb_of_stdout(sandbox: Sandbox, limits: Limits) -> None:
    source = """
import sys
chunk = "x" * (1 << 20)
for _ in range(100):
    sys.stdout.write(chunk)
sys.stdout.flush()
"""
    result = run_script(sandbox, source, limits)
    assert result.limit_hit == "output", result.explain()
    assert result.stdout_truncated
    assert len(result.stdout.encode()) <= limits.output_bytes + 200
    assert "truncated" in result.stdout[-100:]
    assert result.wall_seconds < limits.wall_seconds


def test_100_mb_of_stderr(sandbox: Sandbox, limits: Limits) -> None:
    source = "import sys\nfor _ in range(100):\n    sys.stderr.write('e' * (1 << 20))\n"
    result = run_script(sandbox, source, limits)
    assert result.limit_hit == "output"
    assert result.stderr_truncated and not result.stdout_truncated
    assert len(result.stderr.encode()) <= limits.output_bytes + 200


def test_sleep_past_the_wall_clock(sandbox: Sandbox, limits: Limits) -> None:
    wall = 1.5
    result = run_script(
        sandbox,
        "import time\nprint('start', flush=True)\ntime.sleep(60)\n",
        limits.model_copy(update={"wall_seconds": wall}),
    )
    assert result.limit_hit == "wall"
    assert wall <= result.wall_seconds < wall + 1.5
    assert result.stdout.strip() == "start"  # what ran before the kill is kept


DETACH = """
import os, signal, sys, time
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("grandchild", os.getpid(), flush=True)
        while True:
            time.sleep(0.05)
    os._exit(0)
os.waitpid(pid, 0)
time.sleep(0.3)
print("parent", flush=True)
"""


@pytest.mark.parametrize("parent", ["sleeps", "exits"])
def test_detached_double_forked_child_dies(sandbox: Sandbox, limits: Limits, parent: str) -> None:
    source = DETACH + ("time.sleep(60)\n" if parent == "sleeps" else "")
    wall = 1.5
    with ProcessSampler().running() as sampler:
        result = run_script(
            sandbox, source, limits.model_copy(update={"wall_seconds": wall}), sampler.script
        )
    assert "grandchild" in result.stdout, result
    if parent == "sleeps":
        assert result.limit_hit == "wall"
    assert result.wall_seconds < wall + 1.5
    if isinstance(sandbox, LocalSandbox):
        assert len(sampler.seen) >= 2, "the sampler never saw the sandbox processes"
        assert sampler.survivors() == [], "a detached child survived the run"


def _zip(entries: int, size: int) -> bytes:
    """A zip bomb: `entries` members of `size` zero bytes each, compressed ~1000:1."""
    buf = io.BytesIO()
    block = bytes(1 << 20)
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for i in range(entries):
            with zf.open(f"bomb/{i:04d}.bin", "w", force_zip64=True) as member:
                for _ in range(size >> 20):
                    member.write(block)
    return buf.getvalue()


@pytest.fixture(scope="module")
def one_big_member() -> bytes:
    return _zip(1, 256 << 20)


@pytest.fixture(scope="module")
def many_members() -> bytes:
    return _zip(64, 8 << 20)


UNZIP = "import zipfile\nzipfile.ZipFile('bomb.zip').extractall('out')\nprint('extracted')\n"


def _free_bytes() -> int:
    return shutil.disk_usage("/tmp").free


def test_zip_bomb_one_huge_file(sandbox: Sandbox, limits: Limits, one_big_member: bytes) -> None:
    free = _free_bytes()
    result = run_script(sandbox, UNZIP, limits, **{"bomb.zip": one_big_member})
    assert result.limit_hit == "file_size", result
    assert "extracted" not in result.stdout
    assert _free_bytes() > free - (64 << 20)


def test_zip_bomb_many_files(sandbox: Sandbox, limits: Limits, many_members: bytes) -> None:
    free = _free_bytes()
    result = run_script(sandbox, UNZIP, limits, **{"bomb.zip": many_members})
    assert result.limit_hit == "disk", result
    assert "extracted" not in result.stdout
    assert _free_bytes() > free - (64 << 20)


def test_file_size_bomb(sandbox: Sandbox, limits: Limits) -> None:
    source = (
        "with open('big.bin', 'wb') as fh:\n    while True:\n        fh.write(bytes(1 << 20))\n"
    )
    result = run_script(sandbox, source, limits)
    assert result.limit_hit == "file_size", result


def test_inode_bomb(sandbox: Sandbox, limits: Limits) -> None:
    source = "import os\nos.mkdir('d')\ni = 0\nwhile True:\n    open(f'd/{i}', 'w').close()\n    i += 1\n"
    # Creating a file costs ~1 ms on this disk, so a small file budget keeps the test short.
    limits = limits.model_copy(update={"max_files": 200, "cpu_seconds": 10, "wall_seconds": 5})
    result = run_script(sandbox, source, limits)
    assert result.limit_hit in ("disk", "wall"), result
    if isinstance(sandbox, LocalSandbox):
        assert result.limit_hit == "disk"
        assert result.wall_seconds < limits.wall_seconds


@pytest.mark.parametrize("directory", ["/tmp", "/dev/shm"])
def test_private_tmpfs_is_bounded(sandbox: Sandbox, limits: Limits, directory: str) -> None:
    """The sandbox's writable tmpfs mounts live in host memory: they must have a size."""
    source = f"""
import os
if not os.access({directory!r}, os.W_OK):
    raise SystemExit("read-only")
with open({directory!r} + '/fill', 'wb') as fh:
    for _ in range(1000):
        fh.write(bytes(1 << 20))
"""
    result = run_script(sandbox, source, limits.model_copy(update={"file_size_mb": 1024}))
    assert result.limit_hit == "disk" or "read-only" in result.stderr, result
