"""Project workspace: versions as git commits + tags, manifests, diff, replay, tampering.

Two versions of a tiny ward are solved once (module fixture) with the real template
optimizer in the configured sandbox; tests that tamper work on copies of the project.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer
from dulwich import porcelain
from dulwich.objects import Commit, Tag
from dulwich.repo import Repo
from rich.console import Console
from typer.testing import CliRunner

from alchemist.cli import common as cli_common
from alchemist.cli.versions import diff_command, replay_command, versions_command
from alchemist.executor import SerialExecutor
from alchemist.optimize.runner import optimizer_files, run_optimizer
from alchemist.optimize.schemas import OptimizerOptions
from alchemist.simulate.runner import run_simulation, simulator_files
from alchemist.spec import ProblemSpec, dump_spec_yaml, spec_from_dict
from alchemist.workspace import Manifest, Workspace, WorkspaceError, replay, version_files

# 3 nurses cannot cover 2 day + 1 night staff every day when they must rest: the shortfall
# (100 per missing person) grows when the consecutive-day limit tightens from 5 to 2.
BASE = {
    "name": "tiny ward",
    "horizon": {"start": "2025-01-06", "days": 7},
    "shifts": [
        {"id": "D", "start": "07:00", "minutes": 480},
        {"id": "N", "start": "23:00", "minutes": 480, "is_night": True},
    ],
    "skills": ["nurse"],
    "staff": [{"id": f"n{i}", "skills": ["nurse"]} for i in range(3)],
    "constraints": [
        {
            "id": "cover-day",
            "kind": "cover",
            "shift": "D",
            "skill": "nurse",
            "min": 1,
            "preferred": 2,
        },
        {
            "id": "cover-night",
            "kind": "cover",
            "shift": "N",
            "skill": "nurse",
            "min": 1,
            "preferred": 1,
        },
        {"id": "maxdays", "kind": "max_consecutive_days", "days": 5},
    ],
}
OPTIONS = OptimizerOptions(time_limit=30, threads=1, seed=7, mip_gap=0.0)


def spec_v2() -> ProblemSpec:
    doc = json.loads(json.dumps(BASE))
    doc["constraints"][2]["days"] = 2
    doc["constraints"].append(
        {"id": "n0-off", "kind": "shift_request", "staff": "n0", "day": 0, "on": False}
    )
    return spec_from_dict(doc)


@pytest.fixture(scope="module")
def sandbox():
    from alchemist.sandbox import SandboxUnavailable, get_sandbox

    try:
        return get_sandbox()
    except SandboxUnavailable as err:
        pytest.skip(f"no sandbox here: {err}")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, sandbox) -> Path:
    """v1: solved and simulated; v2: a tighter rule and a request, solved only."""
    root = tmp_path_factory.mktemp("ws") / "ward"
    ws = Workspace.open(root)
    spec1 = spec_from_dict(BASE)
    code1 = optimizer_files(spec1)
    result1 = run_optimizer(spec1, code1, OPTIONS, sandbox)
    assert result1.status == "optimal", result1.error
    sim_code = simulator_files(spec1)
    sim = run_simulation(
        spec1,
        result1.schedule(),
        replications=2,
        seed=3,
        files=sim_code,
        sandbox=sandbox,
        executor=SerialExecutor(),
    )
    assert sim.ok, sim.error
    files, manifest = version_files(
        spec1,
        optimizer_files=code1,
        optimizer_result=result1,
        optimizer_options=OPTIONS,
        simulator_files=sim_code,
        simulation_result=sim,
        tests={"optimizer": {"passed": 3, "failed": 0}},
        sandbox=sandbox,
    )
    assert ws.record(files, manifest, "first solve") == "v1"

    spec2 = spec_v2()
    code2 = optimizer_files(spec2)
    result2 = run_optimizer(spec2, code2, OPTIONS, sandbox)
    assert result2.status == "optimal", result2.error
    files2, manifest2 = version_files(
        spec2, optimizer_files=code2, optimizer_result=result2, optimizer_options=OPTIONS
    )
    assert ws.record(files2, manifest2, "rest after 2 days") == "v2"
    ws.close()
    return root


def copy_of(project: Path, tmp_path: Path) -> Workspace:
    shutil.copytree(project, tmp_path / "copy")
    return Workspace.open(tmp_path / "copy", create=False)


# --------------------------------------------------------------------------- recording


def test_versions_are_listed_with_their_results(project: Path) -> None:
    with Workspace.open(project, create=False) as ws:
        infos = ws.versions()
        assert [i.version for i in infos] == ["v1", "v2"]
        v1, v2 = infos
        assert (v1.message, v2.message, v2.parent) == ("first solve", "rest after 2 days", "v1")
        assert v1.status == v2.status == "optimal"
        assert v1.objective == 300 and v2.objective == 700  # 3 then 7 missing day nurses
        assert v1.spec_hash == spec_from_dict(BASE).content_hash()
        assert v2.spec_hash == spec_v2().content_hash()
        assert ws.resolve("latest") == ws.resolve("2") == "v2"


def test_manifest_pins_files_options_and_packages(project: Path) -> None:
    with Workspace.open(project, create=False) as ws:
        m = ws.manifest("v1")
        stored = ws.files("v1")
    assert m.version == "v1" and m.parent is None and m.created
    assert set(m.code_hashes) == set(stored) - {"manifest.json"}
    assert {"spec.yaml", "optimizer/model.py", "simulator/sim.py", "results/optimizer.json"} <= set(
        m.code_hashes
    )
    assert {"results/simulation.json", "results/roster.csv", "tests/test_model.py"} <= set(stored)
    assert m.options["optimizer"]["threads"] == 1 and m.seeds == {"optimizer": 7, "simulation": 3}
    assert m.options["simulation"] == {"replications": 2, "seed": 3, "deterministic": False}
    assert m.coders == {"optimizer": "template", "simulator": "template"}
    assert {"python", "pyomo", "highspy", "simpy", "numpy", "alchemist"} <= set(m.packages)
    assert m.results["optimizer"]["objective"] == 300
    assert "wait_mean_minutes" in m.results["simulation"]["aggregate"]
    assert m.tests == {"optimizer": {"passed": 3, "failed": 0}}


def test_each_version_is_an_annotated_tag_on_a_commit_chain(project: Path) -> None:
    repo = Repo(str(project))
    try:
        tags = {}
        for name in ("v1", "v2"):
            tag = repo[repo.refs[b"refs/tags/" + name.encode()]]
            assert isinstance(tag, Tag) and b"manifest-sha256: " in tag.message
            tags[name] = tag.object[1]
        commit = repo[tags["v2"]]
        assert isinstance(commit, Commit) and commit.parents == [tags["v1"]]
        assert repo.refs[b"HEAD"] == tags["v2"]
    finally:
        repo.close()


def test_working_tree_is_a_clean_checkout_of_the_latest_version(project: Path) -> None:
    with Workspace.open(project, create=False) as ws:
        latest = ws.files("v2")
    for path, content in latest.items():
        assert (project / path).read_bytes() == content, path
    # v1's simulator is not part of v2: its files left the checkout
    assert not (project / "simulator").exists()
    assert "objective" in (project / "results" / "optimizer.json").read_text()
    assert (project / ".alchemist").is_dir()
    assert ".alchemist/" in (project / ".gitignore").read_text()
    (project / ".alchemist" / "memory.sqlite").write_bytes(b"private")
    try:
        status = porcelain.status(str(project))
        assert status.unstaged == [] and status.untracked == []
        assert not any(status.staged.values())
    finally:
        (project / ".alchemist" / "memory.sqlite").unlink()


def test_record_refuses_bad_paths_and_a_lying_spec_hash(tmp_path: Path) -> None:
    spec = spec_from_dict(BASE)
    with Workspace.open(tmp_path / "p") as ws:
        for bad in ("../escape.py", "/abs.py", ".git/config", ".alchemist/db", "a//b"):
            with pytest.raises(WorkspaceError, match="relative path"):
                ws.record({bad: "x"}, Manifest(), "bad")
        with pytest.raises(WorkspaceError, match="spec_hash"):
            ws.record({"spec.yaml": dump_spec_yaml(spec)}, Manifest(spec_hash="0" * 64), "lie")
        assert ws.versions() == []
        # the spec hash is filled from spec.yaml when not given
        assert ws.record({"spec.yaml": dump_spec_yaml(spec)}, Manifest(), "spec only") == "v1"
        assert ws.manifest("v1").spec_hash == spec.content_hash()
        assert ws.verify("v1") == []


def test_concurrent_writers_get_distinct_versions(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    Workspace.open(tmp_path / "p").close()

    def write(i: int) -> list[str]:
        with Workspace.open(tmp_path / "p", create=False) as ws:
            return [ws.record({"note.txt": f"{i}-{k}"}, Manifest(), f"w{i}") for k in range(3)]

    with ThreadPoolExecutor(4) as pool:
        names = [v for got in pool.map(write, range(4)) for v in got]
    assert sorted(names, key=lambda v: int(v[1:])) == [f"v{n}" for n in range(1, 13)]
    with Workspace.open(tmp_path / "p", create=False) as ws:
        assert all(ws.verify(v) == [] for v in names)
        assert ws.versions()[-1].parent == "v11"


def test_bad_version_names_and_non_projects_say_what_is_wrong(
    project: Path, tmp_path: Path
) -> None:
    with Workspace.open(project, create=False) as ws:
        for bad in ("v9", "nonsense", "v0", ""):
            with pytest.raises(WorkspaceError, match=r"unknown version .*versions: v1, v2"):
                ws.files(bad)
        with pytest.raises(WorkspaceError, match="unknown version"):
            ws.diff("v1", "v3")
        with pytest.raises(WorkspaceError, match="unknown version"):
            replay(ws, "v7")
    with pytest.raises(WorkspaceError, match="not an alchemist project"):
        Workspace.open(tmp_path / "missing", create=False)
    # somebody's own repository is never taken over
    other = tmp_path / "other"
    other.mkdir()
    repo = Repo.init(str(other))
    (other / "README").write_text("mine\n")
    porcelain.add(repo, [str(other / "README")])
    porcelain.commit(repo, message=b"mine", author=b"Me <me@x>", committer=b"Me <me@x>")
    repo.close()
    with pytest.raises(WorkspaceError, match="not an alchemist project"):
        Workspace.open(other)


# --------------------------------------------------------------------------- diff


def test_diff_shows_the_changed_rule_the_new_rule_and_the_objective(project: Path) -> None:
    with Workspace.open(project, create=False) as ws:
        d = ws.diff("v1", "v2")
    changes = {c.id: c for c in d.spec.constraints}
    assert set(changes) == {"maxdays", "n0-off"}
    assert changes["maxdays"].change == "changed"
    assert [(f.path, f.old, f.new) for f in changes["maxdays"].fields] == [("days", 5, 2)]
    assert changes["n0-off"].change == "added" and changes["n0-off"].kind == "shift_request"
    assert d.spec.fields == []
    kpis = {k.name: k for k in d.kpis}
    assert (kpis["optimizer.objective"].a, kpis["optimizer.objective"].b) == (300, 700)
    assert kpis["optimizer.objective"].delta == 400
    assert kpis["optimizer.status"].changed is False
    assert "simulator/sim.py" in d.removed_files
    assert all(text.startswith("---") for text in d.code.values())
    assert d.roster is not None and d.roster["kept"] > 0


def test_spec_diff_names_lists_by_id_and_ignores_yaml_layout() -> None:
    from alchemist.workspace.diff import diff_specs

    a = spec_from_dict(BASE)
    doc = json.loads(json.dumps(BASE))
    doc["horizon"]["days"] = 14
    doc["staff"][1]["skills"] = []
    del doc["constraints"][1]
    raw_b = dump_spec_yaml(spec_from_dict(doc)).encode()
    d = diff_specs(dump_spec_yaml(a).encode(), raw_b)
    assert [(c.id, c.change) for c in d.constraints] == [("cover-night", "removed")]
    assert [f.describe() for f in d.fields] == [
        "horizon.days: 7 -> 14",
        'staff[id=n1].skills: ["nurse"] -> []',
    ]
    assert d.hash_a == a.content_hash()
    # the same spec written differently (key order, defaults spelled out) is no change
    same = json.dumps(a.model_dump(mode="json")).encode()  # JSON is YAML too
    assert not diff_specs(dump_spec_yaml(a).encode(), same).changed


# --------------------------------------------------------------------------- replay


def test_replay_reproduces_solve_and_simulation_bit_for_bit(project: Path, sandbox) -> None:
    with Workspace.open(project, create=False) as ws:
        report = replay(ws, "v1", sandbox=sandbox, executor=SerialExecutor())
    assert report.match, report.model_dump()
    fields = {(c.component, c.field) for c in report.checks}
    assert {("optimizer", "objective"), ("optimizer", "assignments")} <= fields
    assert {("simulation", "aggregate"), ("simulation", "status")} <= fields
    assert report.packages == {} and report.notes == []


def test_replay_reports_a_mismatch_field_by_field(project: Path, tmp_path: Path, sandbox) -> None:
    """Stored results that the code does not produce (recorded honestly, but wrong)."""
    with Workspace.open(project, create=False) as ws:
        files = ws.files("v2")
        m = ws.manifest("v2")
    doc = json.loads(files["results/optimizer.json"])
    doc["objective"] = 699.0
    doc["assignments"] = doc["assignments"][1:]
    files["results/optimizer.json"] = json.dumps(doc).encode()
    m.results["optimizer"]["objective"] = 699.0
    with Workspace.open(tmp_path / "p") as other:
        other.record(files, m, "wrong numbers")
        assert other.verify("v1") == []
        report = replay(other, "v1", sandbox=sandbox)
    bad = {c.field for c in report.mismatches}
    assert not report.match and bad == {"objective", "assignments"}


# --------------------------------------------------------------------------- tampering


def _retag(ws: Workspace, version: str, files: dict[str, bytes]) -> None:
    """An attacker's rewrite: same tag message and parent, different tree."""
    tag, commit = ws._tag(version)
    assert tag is not None
    forged = Commit()
    forged.tree = ws._write_tree(files)
    forged.parents = commit.parents
    forged.author = forged.committer = commit.author
    forged.author_time = forged.commit_time = commit.commit_time
    forged.author_timezone = forged.commit_timezone = 0
    forged.message = commit.message
    ws.repo.object_store.add_object(forged)
    new_tag = Tag()
    new_tag.tagger, new_tag.name, new_tag.message = tag.tagger, tag.name, tag.message
    new_tag.tag_time, new_tag.tag_timezone = tag.tag_time, 0
    new_tag.object = (Commit, forged.id)
    ws.repo.object_store.add_object(new_tag)
    ws.repo.refs[b"refs/tags/" + version.encode()] = new_tag.id


def test_a_modified_stored_file_is_detected(project: Path, tmp_path: Path) -> None:
    ws = copy_of(project, tmp_path)
    files = ws.files("v1")
    files["optimizer/model.py"] += b"\n# tweaked by hand\n"
    _retag(ws, "v1", files)
    problems = ws.verify("v1")
    assert any("optimizer/model.py was modified" in p for p in problems), problems
    # v2 is intact, but its commit no longer follows v1's: history was rewritten
    assert ws.verify("v2") == ["v2: its commit does not follow v1 in history"]
    report = replay(ws, "v1")  # refuses before running anything
    assert not report.match and report.error and report.tampering
    ws.close()


def test_a_modified_manifest_is_detected(project: Path, tmp_path: Path) -> None:
    ws = copy_of(project, tmp_path)
    files = ws.files("v2")
    m = Manifest.from_bytes(files["manifest.json"])
    m.results["optimizer"]["objective"] = 1.0  # a better-looking result
    files["manifest.json"] = m.to_bytes()
    _retag(ws, "v2", files)
    problems = ws.verify("v2", worktree=False)
    assert any("manifest.json was modified" in p for p in problems), problems
    assert any("objective" in p for p in problems), problems
    ws.close()


def test_working_tree_edits_and_commits_outside_alchemist_are_detected(
    project: Path, tmp_path: Path
) -> None:
    ws = copy_of(project, tmp_path)
    model = ws.root / "optimizer" / "model.py"
    model.write_text(model.read_text() + "\n# edited in place\n")
    assert ws.verify("v2") == ["working tree: optimizer/model.py differs from v2"]
    assert ws.verify("v1") == []  # only the checked-out version is compared with the tree

    # ... then committed and re-tagged without updating the manifest
    porcelain.add(ws.repo, [str(model)])
    sha = porcelain.commit(ws.repo, message=b"quick fix", author=b"X <x@y>", committer=b"X <x@y>")
    problems = ws.verify("v2")
    assert any("HEAD is at" in p for p in problems), problems
    porcelain.tag_delete(ws.repo, b"v2")
    porcelain.tag_create(ws.repo, "v2", objectish=sha)
    problems = ws.verify("v2")
    assert any("optimizer/model.py was modified" in p for p in problems), problems
    assert any("not the annotated tag" in p for p in problems), problems
    ws.close()


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    # wide consoles: rich would wrap table cells at the runner's 80 columns
    monkeypatch.setattr(cli_common, "console", Console(width=200))
    monkeypatch.setattr(cli_common, "err_console", Console(width=200, stderr=True))
    app = typer.Typer()
    app.command("versions")(versions_command)
    app.command("diff")(diff_command)
    app.command("replay")(replay_command)
    return app


def test_cli_versions_diff_and_replay(cli: typer.Typer, project: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["versions", str(project)])
    assert out.exit_code == 0, out.output
    assert "v1" in out.output and "rest after 2 days" in out.output and "700" in out.output

    out = runner.invoke(cli, ["diff", str(project), "v1", "v2"])
    assert out.exit_code == 0, out.output
    assert "changed maxdays" in out.output and "5 -> 2" in out.output
    assert "added n0-off" in out.output and "+400" in out.output

    out = runner.invoke(cli, ["replay", str(project), "v2"])
    assert out.exit_code == 0, out.output
    assert "reproduced bit for bit" in out.output


def test_cli_exit_codes_for_bad_input_and_tampering(
    cli: typer.Typer, project: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["replay", str(project), "v9"])
    assert out.exit_code == 2 and "unknown version 'v9'" in out.output
    out = runner.invoke(cli, ["diff", str(project), "v1", "nope"])
    assert out.exit_code == 2
    out = runner.invoke(cli, ["versions", str(tmp_path / "nowhere")])
    assert out.exit_code == 2 and "not an alchemist project" in out.output

    ws = copy_of(project, tmp_path)
    files = ws.files("v1")
    files["results/roster.csv"] += b"2025-01-06,Mon,D,07:00,15:00,8,n9,,nurse\n"
    _retag(ws, "v1", files)
    ws.close()
    out = runner.invoke(cli, ["versions", str(tmp_path / "copy")])
    assert out.exit_code == 1 and "results/roster.csv was modified" in out.output
    out = runner.invoke(cli, ["replay", str(tmp_path / "copy"), "v1"])
    assert out.exit_code == 1 and "not replayed" in out.output
