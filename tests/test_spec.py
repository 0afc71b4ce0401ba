"""ProblemSpec: validation messages, YAML round trips, CSV round trips, hashing."""

from __future__ import annotations

from pathlib import Path

import pytest

from alchemist.spec import (
    CONSTRAINT_KINDS,
    Assignment,
    Schedule,
    SpecError,
    dump_spec_yaml,
    load_spec,
    parse_spec_yaml,
    schedule_from_csv,
    schedule_to_csv,
)
from alchemist.spec.describe import describe
from alchemist.spec.scope import weekends
from tests.optimizer_helpers import make_spec
from tests.test_optimizer_vs_checker import random_spec

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))


def test_design_vocabulary_is_complete():
    expected = {
        "cover", "overstaffing_tolerance", "max_hours", "min_hours", "max_shifts", "max_consecutive_days",
        "min_consecutive_days", "min_consecutive_days_off", "min_rest_hours", "forbidden_succession",
        "max_consecutive_nights", "max_weekends", "complete_weekends", "unavailability", "shift_request",
        "min_skill_per_shift", "fatigue", "fairness", "budget", "objective_weight",
    }  # fmt: skip
    assert set(CONSTRAINT_KINDS) == expected


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_shipped_scenarios_round_trip_through_yaml(path):
    spec = load_spec(path)
    again = parse_spec_yaml(dump_spec_yaml(spec))
    assert again == spec
    assert again.content_hash() == spec.content_hash()


@pytest.mark.parametrize("seed", range(10))
def test_random_specs_round_trip_and_describe(seed):
    spec = random_spec(seed)
    assert parse_spec_yaml(dump_spec_yaml(spec)) == spec
    for rule in spec.constraints:
        text = describe(rule, spec)
        assert text and "{" not in text


def test_yaml_12_scalars():
    spec = make_spec(
        "shifts: [{id: D, start: 15:00, minutes: 480}]\n"
        "constraints: [{kind: shift_request, staff: a, day: 0, on: false, weight: 2}]"
    )
    assert spec.shifts[0].start == "15:00"
    assert spec.constraints[0].on is False


def test_constraint_ids_are_filled_and_unique():
    spec = make_spec(
        "constraints: [{kind: max_hours, hours: 8}, {kind: max_hours, hours: 9}, {kind: cover, shift: D, preferred: 1}]"
    )
    assert [c.id for c in spec.constraints] == ["max_hours-1", "max_hours-2", "cover-1"]
    with pytest.raises(SpecError, match="repeated: x"):
        make_spec(
            "constraints: [{kind: max_hours, hours: 8, id: x}, {kind: max_hours, hours: 9, id: x}]"
        )


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("constraints: [{kind: cover, shift: D, preferred: -1}]", "constraints[0].preferred"),
        (
            "constraints: [{kind: cover, shift: D, preferred: 1, min: 3, max: 2}]",
            "max (2) is below min (3)",
        ),
        ("constraints: [{kind: max_hours, hours: 8, scope: {shifts: [Q]}}]", "unknown shift 'Q'"),
        (
            "constraints: [{kind: unavailability, staff: a, days: [30]}]",
            "day 30 is outside the horizon",
        ),
        (
            "constraints: [{kind: objective_weight, term: happiness, weight: 2}]",
            "unknown term 'happiness'",
        ),
        ("constraints: [{kind: max_hours, hours: 8, colour: red}]", "colour"),
        ("staff: [{id: a, skills: [wizard]}]", "unknown skill 'wizard'"),
        ("staff: [{id: a}, {id: a}]", "staff id 'a' is defined 2 times"),
        ("horizon: {start: 30-02-2024, days: 7}", "horizon.start"),
    ],
)
def test_bad_specs_name_field_and_value(snippet, message):
    with pytest.raises(SpecError) as err:
        make_spec(snippet)
    assert message in str(err.value)
    assert len(str(err.value).splitlines()) <= 6


def test_csv_round_trip():
    spec = make_spec(
        "staff: [{id: a, name: Ana, skills: [RN]}, {id: b, name: Ben}]\nhorizon: {start: 2024-01-06, days: 3}"
    )
    schedule = Schedule(
        assignments=[
            Assignment(staff="a", day=0, shift="N"),
            Assignment(staff="b", day=2, shift="D"),
        ]
    )
    text = schedule_to_csv(spec, schedule)
    assert text.splitlines()[1] == "2024-01-06,Sat,N,23:00,07:00,8,a,Ana,RN"
    assert schedule_from_csv(spec, text).sorted() == schedule.sorted()


def test_csv_rejects_two_shifts_on_a_day():
    spec = make_spec("")
    text = "date,shift,staff_id\n2024-01-01,D,a\n2024-01-01,N,a\n"
    with pytest.raises(SpecError, match="row 3: a already works on 2024-01-01"):
        schedule_from_csv(spec, text)


def test_weekends_follow_the_start_weekday():
    assert weekends(make_spec("horizon: {start: 2024-01-01, days: 14}")) == [[5, 6], [12, 13]]
    assert weekends(make_spec("horizon: {start: 2024-01-07, days: 8}")) == [
        [0],
        [6, 7],
    ]  # starts on a Sunday


def test_impossible_date_is_a_spec_error():
    text = "horizon: {start: 2024-02-30, days: 7}\nshifts: [{id: D, start: '07:00', minutes: 480}]\nstaff: [{id: a}]\n"
    with pytest.raises(SpecError, match="x.yaml: invalid value: day is out of range for month"):
        parse_spec_yaml(text, "x.yaml")
