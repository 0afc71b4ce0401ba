"""The agents and scenarios folders are found in a checkout, by override, and inside a wheel."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from alchemist import resources
from alchemist.coders import AgentDefinition

ROOT = Path(__file__).resolve().parents[1]


def test_checkout_folders_are_used_first(monkeypatch):
    monkeypatch.delenv("ALCHEMIST_AGENTS_DIR", raising=False)
    assert resources.data_dir("agents") == ROOT / "agents"
    assert AgentDefinition.named("optimizer").root == ROOT / "agents" / "optimizer"


def test_environment_override(monkeypatch, tmp_path):
    shutil.copytree(ROOT / "agents" / "simulator", tmp_path / "simulator")
    monkeypatch.setenv("ALCHEMIST_AGENTS_DIR", str(tmp_path))
    assert AgentDefinition.named("simulator").root == tmp_path / "simulator"


def test_installed_package_falls_back_to_the_shared_copy(monkeypatch, tmp_path):
    monkeypatch.setattr(resources, "PACKAGE", tmp_path / "site-packages" / "alchemist")
    monkeypatch.setattr(resources, "SHARED", tmp_path / "share" / "alchemist")
    monkeypatch.delenv("ALCHEMIST_SCENARIOS_DIR", raising=False)
    assert resources.data_dir("scenarios") == tmp_path / "share" / "alchemist" / "scenarios"


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not on PATH (make installs it)")
def test_the_wheel_ships_agents_and_scenarios(tmp_path):
    subprocess.run(
        ["uv", "build", "--wheel", "--out-dir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("alchemist-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    data = f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.data/data/share/alchemist"
    assert f"{data}/agents/optimizer/agent.yaml" in names
    assert f"{data}/agents/optimizer/templates/solver.py.j2" in names
    assert f"{data}/scenarios/nurse_ward.yaml" in names
    assert "alchemist/resources.py" in names
    assert not any(n.startswith("alchemist/_data") for n in names)  # nothing importable added
