"""The `simulation:` section of a scenario: typed, with per-family documented defaults."""

from __future__ import annotations

import pytest

from alchemist.spec import SpecError, dump_spec_yaml, parse_spec_yaml
from alchemist.spec.simulation import FAMILY_DEFAULTS, SimulationParams, simulation_errors
from tests.conftest_sim import ward_spec

BASE = """
name: tiny
horizon: {start: 2025-01-06, days: 7}
shifts: [{id: D, start: "07:00", minutes: 480}]
skills: [RN]
staff: [{id: a, skills: [RN]}]
"""


def test_a_scenario_without_the_section_gets_the_ward_defaults():
    spec = parse_spec_yaml(BASE)
    sim = spec.simulation
    assert sim.family == "ward" and sim.handover_minutes == 15
    assert [c.name for c in sim.classes] == ["low", "medium", "high"]
    assert sim.arrivals.per_hour is None  # derived from the cover rules
    assert sim.absence.sick_call_probability == 0.04
    assert sim.replications == 30 and sim.seed == 0


@pytest.mark.parametrize("family", ["ward", "icu", "call_center"])
def test_family_defaults_fill_what_is_missing_and_keep_what_is_given(family):
    sim = SimulationParams.model_validate(
        {"family": family, "absence": {"sick_call_probability": 0.2}}
    )
    defaults = FAMILY_DEFAULTS[family]
    assert sim.absence.sick_call_probability == 0.2
    assert sim.absence.late_cover_probability == defaults["absence"]["late_cover_probability"]
    assert sim.handover_minutes == defaults["handover_minutes"]
    assert [c.name for c in sim.classes] == [c["name"] for c in defaults["classes"]]


def test_call_center_defaults():
    sim = SimulationParams(family="call_center")
    assert sim.classes[0].distribution == "exponential"
    assert (
        sim.call_center.patience_mean_seconds == 180 and sim.call_center.service_level_seconds == 20
    )


def test_yaml_round_trip_keeps_the_content_hash():
    spec = parse_spec_yaml(
        BASE
        + """
simulation:
  family: icu
  arrivals: {per_hour: [2,2,2,2,2,2,3,4,5,5,5,5,5,5,5,5,4,4,4,3,3,3,2,2], weekday_factor: {sun: 0.8}}
  fatigue: {night: 0.1}
"""
    )
    again = parse_spec_yaml(dump_spec_yaml(spec))
    assert again.content_hash() == spec.content_hash()
    assert again.simulation.fatigue.night == 0.1 and again.simulation.fatigue.per_extra_day == 0.04


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ("{family: hospital}", "simulation.family"),
        ("{arrivals: {per_hour: [1, 2, 3]}}", "simulation.arrivals.per_hour"),
        ("{absence: {sick_call_probability: 1.5}}", "simulation.absence.sick_call_probability"),
        ("{arrivals: {weekday_factor: {funday: 2}}}", "simulation.arrivals.weekday_factor"),
        ("{speed: 3}", "simulation.speed"),
        (
            "{classes: [{name: a, share: 1, mean_minutes: 5}, {name: a, share: 1, mean_minutes: 6}]}",
            "class names must be unique",
        ),
    ],
)
def test_bad_simulation_sections_name_the_field(section, fragment):
    with pytest.raises(SpecError) as err:
        parse_spec_yaml(BASE + f"simulation: {section}\n", "s.yaml")
    assert fragment in str(err.value)


def test_unknown_server_skill_is_reported():
    spec = ward_spec(days=7, simulation={"server_skills": ["surgeon"]})
    assert simulation_errors(spec) == [
        "simulation.server_skills: unknown skill 'surgeon' (skills: ['nurse', 'senior'])"
    ]
    assert simulation_errors(ward_spec(days=7, simulation={"server_skills": ["nurse"]})) == []


def test_mean_care_time():
    sim = SimulationParams.model_validate(
        {
            "classes": [
                {"name": "a", "share": 3, "mean_minutes": 10},
                {"name": "b", "share": 1, "mean_minutes": 50},
            ]
        }
    )
    assert sim.mean_care_minutes() == pytest.approx(20.0)
