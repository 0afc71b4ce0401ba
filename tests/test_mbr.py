"""MBR selection: five candidates, two with planted bugs; a correct one must win."""

from __future__ import annotations

import re

import pytest

from alchemist.executor import LocalExecutor
from alchemist.sandbox import SandboxUnavailable, get_sandbox
from alchemist.validation import (
    Candidate,
    decide,
    optimizer_distance,
    select,
    template_candidates,
    tightened,
)
from tests.optimizer_helpers import make_spec

SPEC = make_spec(
    "constraints: [{kind: cover, shift: D, preferred: 1}, {kind: max_consecutive_days, days: 3}]"
)
WINDOW = 'lambda i: D.rules[i[0]]["days"], "max_consecutive_days")'


def planted(files: dict[str, str], bug: str) -> dict[str, str]:
    # the run rules' flow (sequences.py) also holds max_consecutive_days, and would mask a bug
    # in the window rows: the planted bugs are in a model without it
    model = re.sub(r"NETWORK_ARCS = \d+", "NETWORK_ARCS = 0", files["optimizer/model.py"])
    if bug == "dropped":  # the rule is never added to the model
        edited = model.replace("add_max_consecutive_days, ", "")
    else:  # off-by-one: the window allows one more day than the rule says
        edited = model.replace(WINDOW, WINDOW.replace('["days"]', '["days"] + 1'))
    assert edited != model, bug
    return {**files, "optimizer/model.py": edited}


def test_tightened_probe_makes_one_rule_stricter():
    probe = tightened(SPEC)
    assert probe is not None and "days 3 -> 2" in probe.name
    assert probe.spec.constraints[1].days == 2


def test_decide_is_pure_and_breaks_ties_by_speed():
    ok = {"status": "optimal", "has_roster": True, "feasible": True, "objective": 100.0}
    bad = {**ok, "feasible": False, "objective": 0.0}
    assert optimizer_distance(ok, bad) == 1.0 and optimizer_distance(ok, ok) == 0.0
    d = decide("optimizer", ["a", "b", "c"], ["x"], [[ok], [ok], [bad]], [2.0, 1.0, 0.1])
    assert d.winner == "b" and d.risks == [0.5, 0.5, 1.0] and "fastest" in d.reason


def test_mbr_picks_a_correct_candidate_among_planted_bugs():
    try:
        sandbox = get_sandbox()
    except SandboxUnavailable as err:
        pytest.skip(f"no sandbox here: {err}")
    good = template_candidates("optimizer", SPEC, 3)  # default, pattern, default again
    assert [c.name for c in good] == ["template", "template:pattern", "template#3"]
    base = good[0].files
    candidates = [
        good[0],
        Candidate("dropped-rule", planted(base, "dropped")),
        good[1],
        Candidate("off-by-one", planted(base, "off-by-one")),
        good[2],
    ]
    with LocalExecutor(workers=2) as ex:
        decision = select("optimizer", SPEC, candidates, executor=ex, sandbox=sandbox)
    assert decision.winner in {"template", "template:pattern", "template#3"}, decision
    assert len(decision.matrix) == 5 and all(len(row) == 5 for row in decision.matrix)
    assert decision.inputs[0] == "scenario" and decision.inputs[1].startswith("tightened")
    bad = {1, 3}
    for i in range(5):
        for j in range(5):
            if i not in bad and j not in bad:
                assert decision.matrix[i][j] == 0.0  # correct formulations agree exactly
    assert decision.matrix[0][1] > 0 and decision.matrix[0][3] > 0
    assert max(decision.risks[i] for i in (0, 2, 4)) < min(decision.risks[i] for i in bad)
    manifest = decision.to_manifest()
    assert manifest["winner"] == decision.winner and "outputs" not in manifest


def test_mbr_for_the_simulator_compares_kpis():
    from tests.conftest_sim import ward_spec

    try:
        sandbox = get_sandbox()
    except SandboxUnavailable as err:
        pytest.skip(f"no sandbox here: {err}")
    spec = ward_spec(days=7)
    (good,) = template_candidates("simulator", spec, 1)
    sim = good.files["simulator/sim.py"]
    line = '"waiting": int(waiting.sum()),'
    assert line in sim
    broken = {**good.files, "simulator/sim.py": sim.replace(line, line.replace(")", ") + 1", 1))}
    candidates = [good, Candidate("flow-leak", broken), Candidate("copy", dict(good.files))]
    with LocalExecutor(workers=2) as ex:
        decision = select("simulator", spec, candidates, executor=ex, sandbox=sandbox)
    assert decision.winner in {"template", "copy"} and decision.matrix[0][2] == 0.0
    assert decision.matrix[0][1] == 1.0  # its output breaks the contract (flow balance)
    assert decision.inputs[1].startswith("one nurse fewer")
