"""The Simulator agent as data: its folder, what TemplateCoder renders from it, and the
agent's own tests (contract + model tests) passing in a sandbox on the rendered code."""

from __future__ import annotations

import ast
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from alchemist.coders import AgentDefinition, TemplateCoder
from alchemist.spec import CONSTRAINT_KINDS, load_spec
from alchemist.spec.model import ProblemSpec
from tests.conftest_sim import PlainSandbox, call_center_spec, render, ward_spec

ALLOWED = {"simpy", "numpy", "simulator", "sim_helpers"}
PYTEST = ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]


def specs() -> dict[str, ProblemSpec]:
    """The shipped scenarios (one per family), with the small test specs as a fallback."""
    root = Path(__file__).resolve().parents[1] / "scenarios"
    fallback = {"icu": ward_spec(days=14, family="icu"), "call_center": call_center_spec(days=7)}
    out = {}
    for name in ("nurse_ward", "icu", "call_center"):
        path = root / f"{name}.yaml"
        out[name] = load_spec(path) if path.exists() else fallback.get(name, ward_spec())
    return out


def test_agent_folder_declares_its_files_and_every_kind():
    agent = AgentDefinition.named("simulator")
    assert agent.name == "simulator"
    assert (agent.root / agent.role).is_file() and (agent.root / agent.contract).is_file()
    assert set(agent.supports) == set(CONSTRAINT_KINDS)  # roster rules need no simulation code
    assert {"simulator/sim.py", "simulator/__main__.py", "simulator/__init__.py"} <= set(
        agent.files
    )
    assert any(Path(t).name.startswith("test_sim_") for t in agent.tests)


@pytest.mark.parametrize("name", ["nurse_ward", "icu", "call_center"])
def test_rendering_is_deterministic_and_family_specific(name):
    spec = specs()[name]
    files = render(spec)
    assert files == TemplateCoder("simulator").generate(spec)
    assert {"tests/test_sim_model.py", "tests/test_sim_contract.py", "tests/sim_helpers.py"} <= set(
        files
    )
    sim = files["simulator/sim.py"]
    assert f'FAMILY = "{spec.simulation.family}"' in sim
    if spec.simulation.family == "call_center":
        assert "service_level" in sim and "missed_care" not in sim
    else:
        assert "missed_care" in sim and "service_level" not in sim
    compile(sim, "sim.py", "exec")
    assert "Undefined" not in "".join(files.values())  # no stray Jinja expression


@pytest.mark.parametrize("name", ["nurse_ward", "call_center"])
def test_generated_code_imports_only_stdlib_simpy_numpy(name):
    files = render(specs()[name])
    for path, text in files.items():
        if not path.endswith(".py"):
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                roots = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]} if node.level == 0 else set()
            else:
                continue
            bad = {r for r in roots if r not in sys.stdlib_module_names and r not in ALLOWED}
            assert not bad, f"{path} imports {bad}"
            if path.startswith("simulator/"):
                assert not roots & {"sim_helpers", "alchemist"}


def test_generated_code_is_ruff_clean_and_formatted():
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.skip("ruff not installed")
    config = Path(__file__).resolve().parents[1] / "pyproject.toml"
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in specs().items():
            for path, text in render(spec).items():
                target = Path(tmp) / name / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
        lint = subprocess.run(
            [str(ruff), "check", "--no-cache", "--config", str(config), tmp],
            capture_output=True,
            text=True,
        )
        fmt = subprocess.run(
            [str(ruff), "format", "--check", "--no-cache", "--config", str(config), tmp],
            capture_output=True,
            text=True,
        )
    assert lint.returncode == 0, lint.stdout[-3000:]
    assert fmt.returncode == 0, fmt.stdout[-3000:]


@pytest.mark.parametrize("name", ["nurse_ward", "icu", "call_center"])
def test_the_agents_own_tests_pass_on_the_rendered_code(name):
    run = PlainSandbox().run(PYTEST, render(specs()[name]))
    assert run.exit_code == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "failed" not in run.stdout


def test_the_agents_own_tests_pass_in_the_real_sandbox():
    from alchemist.sandbox import SandboxUnavailable, get_sandbox

    try:
        sandbox = get_sandbox()
    except SandboxUnavailable as err:
        pytest.skip(f"no sandbox here: {err}")
    run = sandbox.run(PYTEST, render(specs()["nurse_ward"]))
    assert run.ok, run.explain() + "\n" + run.stdout[-3000:] + run.stderr[-2000:]


def test_a_broken_simulator_fails_its_contract_tests():
    files = render(ward_spec(days=7))
    files["simulator/sim.py"] = files["simulator/sim.py"].replace(
        '"waiting": int(waiting.sum()),', '"waiting": int(waiting.sum()) + 1,'
    )
    run = PlainSandbox().run(PYTEST, files)
    assert run.exit_code != 0 and "test_flow_balance_in_every_replication" in run.stdout
