"""The sandbox contract: runs, files in and out, limits, selection, and the real stack
(Pyomo + HiGHS, SimPy, pytest) working inside. Attacks live in tests/adversarial/."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import alchemist.sandbox.local as local_mod
from alchemist.sandbox import (
    DockerSandbox,
    Limits,
    LocalSandbox,
    RunResult,
    Sandbox,
    SandboxUnavailable,
    SubprocessSandbox,
    get_sandbox,
    leftover_processes,
)
from alchemist.sandbox.docker import input_payload, parse_runner_output

RUNNER = Path(local_mod.__file__).with_name("docker_runner.py")
FAST = Limits(wall_seconds=20, cpu_seconds=20, memory_mb=1024, processes=32)


@pytest.fixture(autouse=True)
def no_sandbox_process_left() -> Iterator[None]:
    yield
    assert leftover_processes() == [], "a sandbox process outlived its run"


@pytest.fixture(scope="module", params=["bwrap", "unshare"])
def isolated(request: pytest.FixtureRequest) -> Sandbox:
    try:
        return LocalSandbox(backend=request.param)
    except SandboxUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def bwrap() -> LocalSandbox:
    try:
        return LocalSandbox(backend="bwrap")
    except SandboxUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def docker_sandbox() -> DockerSandbox:
    try:
        return DockerSandbox()
    except SandboxUnavailable as exc:
        pytest.skip(str(exc))


# -- the contract ------------------------------------------------------------------------


def test_run_echo_files_and_exit_code(isolated: Sandbox) -> None:
    source = (
        "import json, pathlib, sys\n"
        "data = json.loads(pathlib.Path('in/problem.json').read_text())\n"
        "pathlib.Path('out').mkdir()\n"
        "pathlib.Path('out/result.json').write_text(json.dumps({'double': data['n'] * 2}))\n"
        "pathlib.Path('out/sub').mkdir()\n"
        "pathlib.Path('out/sub/bin.dat').write_bytes(bytes(range(256)))\n"
        "print('hello'); print('warn', file=sys.stderr); sys.exit(3)\n"
    )
    result = isolated.run(
        ["python", "main.py"],
        {"main.py": source, "in/problem.json": json.dumps({"n": 21})},
        FAST,
        collect=["out", "missing.txt"],
    )
    assert result.exit_code == 3 and not result.ok
    assert result.limit_hit is None
    assert result.stdout == "hello\n" and result.stderr == "warn\n"
    assert json.loads(result.files["out/result.json"]) == {"double": 42}
    assert result.files["out/sub/bin.dat"] == bytes(range(256))
    assert any("missing.txt" in w for w in result.warnings)
    assert result.explain() == "exit code 3: warn"
    assert result.sandbox.startswith("local:")
    assert result.wall_seconds > 0 and result.cpu_seconds > 0
    # Sampled while the run lived: a 50 ms run shows some of Python's start-up, not its
    # exact peak (the long pyomo run below asserts a real figure).
    assert result.peak_memory_mb > 0


def test_command_not_found_is_a_failed_run(isolated: Sandbox) -> None:
    result = isolated.run(["no-such-program-xyz"], {}, FAST)
    assert result.exit_code != 0 and not result.ok


def test_environment_is_an_allow_list(bwrap: LocalSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_HOST_VARIABLE", "x")
    result = bwrap.run(
        ["python", "-c", "import json, os; print(json.dumps(dict(os.environ)))"], {}, FAST
    )
    env = json.loads(result.stdout)
    assert "SOME_HOST_VARIABLE" not in env
    assert env["HOME"] == "/tmp" and env["PYTHONHASHSEED"] == "0"
    assert env["OMP_NUM_THREADS"] == "1"


def test_extra_env_is_passed_but_secrets_are_refused() -> None:
    sandbox = LocalSandbox(env={"ALCHEMIST_SEED": "7"})
    result = sandbox.run(
        ["python", "-c", "import os; print(os.environ['ALCHEMIST_SEED'])"], {}, FAST
    )
    assert result.stdout.strip() == "7"
    with pytest.raises(ValueError, match="secret"):
        LocalSandbox(env={"OPENAI_API_KEY": "sk-x"})


def test_rlimits_are_visible_inside(bwrap: LocalSandbox) -> None:
    limits = Limits(cpu_seconds=7, memory_mb=900, processes=12, file_size_mb=5)
    source = (
        "import json, resource as r\n"
        "print(json.dumps({n: r.getrlimit(getattr(r, n))[0] for n in "
        "('RLIMIT_CPU', 'RLIMIT_AS', 'RLIMIT_NPROC', 'RLIMIT_FSIZE', 'RLIMIT_CORE')}))\n"
    )
    got = json.loads(bwrap.run(["python", "-c", source], {}, limits).stdout)
    assert got["RLIMIT_CPU"] == 7
    assert got["RLIMIT_AS"] == 900 << 20
    assert got["RLIMIT_FSIZE"] == 5 << 20
    assert got["RLIMIT_CORE"] == 0
    assert got["RLIMIT_NPROC"] == 12 + 1 or not bwrap.as_root  # + bwrap's own process


def test_output_cap_marks_truncation(bwrap: LocalSandbox) -> None:
    limits = FAST.model_copy(update={"output_bytes": 1000})
    result = bwrap.run(["python", "-c", "print('y' * 5000)"], {}, limits)
    assert result.stdout_truncated and result.limit_hit == "output"
    assert result.stdout.startswith("y" * 1000) and "truncated at 1000 bytes" in result.stdout
    assert result.explain().startswith("stopped: output limit hit")


def test_concurrent_runs_get_their_own_uid(bwrap: LocalSandbox) -> None:
    results: list[RunResult] = []

    def one() -> None:
        results.append(bwrap.run(["python", "-c", "import os, time; time.sleep(0.3)"], {}, FAST))

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(r.ok for r in results), [r.explain() for r in results]


def test_stale_work_dirs_of_dead_callers_are_removed(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("work dirs are per-uid only when root")
    base = Path(tempfile.mkdtemp(prefix="alchemist-stale-", dir="/tmp"))
    try:
        base.chmod(0o711)
        stale = base / "run-crashed"
        stale.mkdir()
        (stale / "big.bin").write_bytes(b"x" * 10)
        os.chown(stale, local_mod.UID_BASE + 5, local_mod.UID_BASE + 5)
        mine = base / "keep-me"
        mine.mkdir()
        LocalSandbox(base_dir=base)
        assert not stale.exists() and mine.exists()
    finally:
        subprocess.run(["rm", "-rf", str(base)], check=False)


def test_files_cannot_escape_on_the_way_in(bwrap: LocalSandbox) -> None:
    with pytest.raises(ValueError, match="escapes"):
        bwrap.run(["true"], {"../x": "y"}, FAST)


# -- the real stack inside ----------------------------------------------------------------

MILP = """
import json
import pyomo.environ as pyo

m = pyo.ConcreteModel()
m.x = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(0, 4))
m.y = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(0, 10))
m.cap = pyo.Constraint(expr=2 * m.x + 3 * m.y <= 12)
m.obj = pyo.Objective(expr=3 * m.x + 4 * m.y, sense=pyo.maximize)
result = pyo.SolverFactory("appsi_highs").solve(m)
print(json.dumps({
    "termination": str(result.solver.termination_condition),
    "x": round(pyo.value(m.x)),
    "y": round(pyo.value(m.y)),
    "objective": pyo.value(m.obj),
}))
"""


def test_pyomo_highs_milp_runs_inside(isolated: Sandbox) -> None:
    result = isolated.run(["python", "model.py"], {"model.py": MILP}, FAST)
    assert result.ok, result.stderr
    best = max(
        (3 * x + 4 * y, x, y)
        for x, y in itertools.product(range(5), range(11))
        if 2 * x + 3 * y <= 12
    )
    got = json.loads(result.stdout.strip().splitlines()[-1])
    assert got["termination"] == "optimal"
    assert (got["objective"], got["x"], got["y"]) == best
    assert result.peak_memory_mb > 30  # numpy + pyomo + highspy really were loaded


SIMPY = """
import json, random
import simpy

def customer(env, counter, waits):
    arrived = env.now
    with counter.request() as req:
        yield req
        waits.append(env.now - arrived)
        yield env.timeout(random.expovariate(1.2))

def source(env, counter, waits):
    for _ in range(200):
        env.process(customer(env, counter, waits))
        yield env.timeout(random.expovariate(1.0))

random.seed(42)
env = simpy.Environment()
counter = simpy.Resource(env, capacity=1)
waits = []
env.process(source(env, counter, waits))
env.run()
print(json.dumps({"served": len(waits), "mean_wait": sum(waits) / len(waits)}))
"""


def test_simpy_model_runs_inside(isolated: Sandbox) -> None:
    result = isolated.run(["python", "sim.py"], {"sim.py": SIMPY}, FAST)
    assert result.ok, result.stderr
    got = json.loads(result.stdout)
    assert got["served"] == 200 and got["mean_wait"] >= 0
    again = isolated.run(["python", "sim.py"], {"sim.py": SIMPY}, FAST)
    assert again.stdout == result.stdout  # seeded runs replay exactly


def test_pytest_runs_inside(bwrap: LocalSandbox) -> None:
    files = {
        "optimizer/__init__.py": "",
        "optimizer/model.py": "def solve(problem, options):\n    return {'status': 'optimal'}\n",
        "tests/test_model.py": (
            "from optimizer.model import solve\n\n"
            "def test_solve():\n    assert solve({}, {})['status'] == 'optimal'\n"
        ),
    }
    result = bwrap.run(
        ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], files, FAST
    )
    assert result.ok, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_generated_code_cannot_import_the_engine(bwrap: LocalSandbox) -> None:
    result = bwrap.run(["python", "-c", "import alchemist"], {}, FAST)
    assert result.exit_code != 0 and "ModuleNotFoundError" in result.stderr


# -- selection, fallbacks, refusal -----------------------------------------------------------


def test_get_sandbox_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALCHEMIST_SANDBOX", raising=False)
    assert isinstance(get_sandbox(), LocalSandbox)
    monkeypatch.setenv("ALCHEMIST_SANDBOX", "unsafe")
    assert isinstance(get_sandbox(), SubprocessSandbox)
    monkeypatch.setenv("ALCHEMIST_SANDBOX", "nonsense")
    with pytest.raises(SandboxUnavailable, match="local, docker, unsafe"):
        get_sandbox()


def test_docker_without_engine_says_so_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    monkeypatch.setenv("ALCHEMIST_SANDBOX", "docker")
    with pytest.raises(SandboxUnavailable) as info:
        get_sandbox()
    message = str(info.value)
    assert "\n" not in message and "Docker" in message and "ALCHEMIST_SANDBOX=local" in message


def test_refuses_without_isolation_unless_unsafe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_mod, "_probe_cache", {})
    monkeypatch.setattr(local_mod.shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(SandboxUnavailable, match="ALCHEMIST_SANDBOX=unsafe"):
        LocalSandbox()
    unsafe = LocalSandbox(allow_unsafe=True)
    assert unsafe.backend == "none"
    assert any("UNSAFE" in w for w in unsafe.warnings)


def test_unsafe_sandbox_still_scrubs_env_and_kills_detached_children(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-never-inside")
    source = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(60)\n"
        "    os._exit(0)\n"
        "print(sorted(os.environ))\n"
    )
    result = SubprocessSandbox().run(["python", "-c", source], {}, FAST)
    assert result.ok and "OPENAI_API_KEY" not in result.stdout
    assert result.sandbox == "unsafe:none" and result.warnings
    # the autouse fixture checks the detached grandchild is gone (uid sweep)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch to an unprivileged user")
def test_works_when_not_launched_as_root(tmp_path: Path) -> None:
    """As a plain user bwrap runs as that user; isolation holds, NPROC is only weaker."""
    script = (
        "import json\n"
        "from alchemist.sandbox import LocalSandbox, Limits\n"
        "sb = LocalSandbox()\n"
        "r = sb.run(['python', '-c', 'import os, socket\\n"
        'try:\\n    socket.create_connection(("1.1.1.1", 53), timeout=1); print("NET")\\n'
        'except OSError:\\n    print("nonet", os.path.exists("/root"))\'], {}, Limits(wall_seconds=20))\n'
        "print(json.dumps({'backend': sb.backend, 'root': sb.as_root, 'out': r.stdout, 'err': r.stderr}))\n"
    )
    home = Path(tempfile.mkdtemp(prefix="alchemist-nonroot-", dir="/tmp"))
    os.chown(home, 65534, 65534)
    try:
        done = subprocess.run(
            [sys.executable, "-c", script],
            user=65534,
            group=65534,
            extra_groups=[],
            env={
                "PATH": "/usr/bin:/bin",
                "HOME": str(home),
                "ALCHEMIST_SANDBOX_DIR": str(home / "sb"),
            },
            capture_output=True,
            text=True,
            timeout=60,
            cwd=str(home),
        )
    finally:
        subprocess.run(["rm", "-rf", str(home)], check=False)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["backend"] == "bwrap" and got["root"] is False
    assert got["out"].strip() == "nonet False", got


# -- the Docker runner protocol (runs here without Docker) ------------------------------------


def test_docker_runner_protocol_locally(tmp_path: Path) -> None:
    limits = Limits(output_bytes=64, wall_seconds=10)
    command = [
        sys.executable,
        "-c",
        "import os\nos.symlink('/etc/passwd', 'link')\nos.makedirs('out')\n"
        "open('out/r.json', 'w').write('{}')\nprint('z' * 100)\n",
    ]
    payload = input_payload(command, {"in/a.txt": "A"}, limits, ["out", "link", "in/a.txt"])
    done = subprocess.run(
        [sys.executable, "-I", str(RUNNER)],
        input=payload,
        capture_output=True,
        cwd=tmp_path,
        timeout=30,
    )
    result = parse_runner_output(done.stdout, done.stderr, "docker:test")
    assert result.stdout_truncated and result.limit_hit == "output"
    assert result.files == {"out/r.json": b"{}", "in/a.txt": b"A"}
    assert any("link" in w for w in result.warnings)
    broken = parse_runner_output(b"garbage", b"boom", "docker:test")
    assert broken.exit_code == 125 and not broken.ok


def test_docker_payload_refuses_escaping_paths() -> None:
    with pytest.raises(ValueError):
        input_payload(["true"], {"../x": "y"}, Limits(), None)


class _FakeContainer:
    """Plays a container by running the real runner script locally (benign commands only)."""

    id = "fake-container"

    def __init__(self, options: dict, workdir: Path) -> None:
        self.options = options
        self.workdir = workdir
        self.stdin = b""
        self.out = self.err = b""
        self.attrs = {"State": {"OOMKilled": False}}
        self.removed = False

    def start(self) -> None:
        pass

    def wait(self, timeout: float) -> dict:
        done = subprocess.run(
            [sys.executable, "-I", "-c", self.options["command"][-1]],
            input=self.stdin,
            capture_output=True,
            cwd=self.workdir,
            timeout=timeout,
        )
        self.out, self.err = done.stdout, done.stderr
        return {"StatusCode": done.returncode}

    def logs(self, stdout: bool, stderr: bool) -> bytes:
        return self.out if stdout else self.err

    def reload(self) -> None:
        pass

    def kill(self) -> None:
        pass

    def remove(self, force: bool) -> None:
        self.removed = True


class _FakeSocket:
    def __init__(self, container: _FakeContainer) -> None:
        self._sock = self
        self.container = container

    def sendall(self, data: bytes) -> None:
        self.container.stdin += data

    def shutdown(self, how: int) -> None:
        pass

    def close(self) -> None:
        pass


class _FakeDockerClient:
    def __init__(self, workdir: Path) -> None:
        from types import SimpleNamespace

        self.workdir = workdir
        self.container: _FakeContainer | None = None
        self.api = SimpleNamespace(attach_socket=lambda cid, params: _FakeSocket(self.container))  # type: ignore[arg-type]
        self.images = SimpleNamespace(get=lambda name: object())
        self.containers = SimpleNamespace(create=self._create)

    def _create(self, image: str, **options: object) -> _FakeContainer:
        from docker.models.containers import _create_container_args

        # The same validation docker-py applies before talking to the engine.
        _create_container_args({"image": image, "version": "1.44", **dict(options)})
        self.container = _FakeContainer(dict(options), self.workdir)
        return self.container


def test_docker_sandbox_glue_with_a_fake_engine(tmp_path: Path) -> None:
    client = _FakeDockerClient(tmp_path)
    sandbox = DockerSandbox(client=client)
    source = "import pathlib\npathlib.Path('out.txt').write_text('done')\nprint('hi')\n"
    result = sandbox.run(
        [sys.executable, "main.py"], {"main.py": source}, FAST, collect=["out.txt"]
    )
    assert result.ok, result
    assert result.stdout == "hi\n" and result.files == {"out.txt": b"done"}
    assert result.sandbox == "docker:alchemist-sandbox:py3.11"
    assert client.container is not None and client.container.removed
    options = client.container.options
    assert options["network_disabled"] and options["read_only"] and options["cap_drop"] == ["ALL"]
    assert options["pids_limit"] == FAST.processes + 2
    assert "OPENAI_API_KEY" not in options["environment"]


@pytest.mark.docker
def test_docker_sandbox_runs_the_stack(docker_sandbox: DockerSandbox) -> None:
    result = docker_sandbox.run(
        ["python", "model.py"], {"model.py": MILP}, FAST, collect=["model.py"]
    )
    assert result.ok, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["termination"] == "optimal"
    assert result.files == {"model.py": MILP.encode()}
    sim = docker_sandbox.run(["python", "sim.py"], {"sim.py": SIMPY}, FAST)
    assert sim.ok and json.loads(sim.stdout)["served"] == 200


# -- doctor ------------------------------------------------------------------------------------


def test_doctor_report_measures_isolation_and_hides_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from rich.console import Console

    from alchemist.cli.doctor import render_doctor
    from alchemist.doctor import doctor_report

    monkeypatch.delenv("ALCHEMIST_SANDBOX", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-doctor-must-not-print")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://user:pw@localhost:8000/v1")
    monkeypatch.setenv("ALCHEMIST_MODEL", "qwen2.5-coder")
    report = doctor_report()
    box = report["sandbox"]
    assert box["available"] and box["backend"].startswith("local:")
    props = box["properties"]
    for name in (
        "network_blocked",
        "host_files_hidden",
        "project_hidden",
        "writes_confined",
        "env_scrubbed",
        "rlimits",
        "runtime",
    ):
        assert props[name]["ok"], (name, props[name])
    assert (
        report["solvers"]["pyomo"] and report["solvers"]["highspy"] and report["solvers"]["simpy"]
    )
    assert report["solvers"]["python"].startswith("3.11")
    assert report["solvers"]["appsi_highs_available"] is True
    assert report["llm"] == {
        "openai_api_key_set": True,
        "openai_base_url": "http://***@localhost:8000/v1",
        "alchemist_model": "qwen2.5-coder",
    }
    out = io.StringIO()
    render_doctor(Console(file=out, width=160), report)
    text = out.getvalue() + json.dumps(report)
    assert "sk-doctor-must-not-print" not in text and "pw@" not in text
    assert "network blocked" in text and "HiGHS".lower() in text.lower()


def test_doctor_reports_an_unreachable_docker_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    from alchemist.doctor import doctor_report

    monkeypatch.setenv("ALCHEMIST_SANDBOX", "docker")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    box = doctor_report(probe=False)["sandbox"]
    assert box["available"] is False and "Docker" in box["error"]


def test_sandbox_image_pins_match_the_venv() -> None:
    """The Docker runtime must solve with exactly the versions the local sandbox uses."""
    import importlib.metadata

    pins = Path(local_mod.__file__).resolve().parents[2] / "sandbox_images" / "requirements.txt"
    for line in pins.read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, version = line.split("==")
        assert importlib.metadata.version(name) == version, name
