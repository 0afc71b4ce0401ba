"""Validation: MBR selection among candidate implementations (more protocols to come)."""

from .mbr import (
    Candidate,
    MBRDecision,
    Probe,
    decide,
    default_probes,
    optimizer_distance,
    select,
    simulator_distance,
    template_candidates,
    tightened,
)

__all__ = [
    "Candidate",
    "MBRDecision",
    "Probe",
    "decide",
    "default_probes",
    "optimizer_distance",
    "select",
    "simulator_distance",
    "template_candidates",
    "tightened",
]
