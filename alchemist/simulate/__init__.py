"""Simulation: run the Simulator agent's SimPy model in a sandbox and aggregate its KPIs.

from alchemist.simulate import run_simulation, simulator_files
result = run_simulation(spec, schedule, replications=30, seed=1)
result.aggregate["p_shift_understaffed"].mean, result.coverage (deterministic mode)
"""

from .rosters import busiest_shift, cover_roster, without
from .runner import plan_chunks, run_chunk, run_simulation, simulator_files
from .schemas import (
    KPI_MODELS,
    CallCenterKpis,
    CareKpis,
    CommonKpis,
    CoverageCount,
    KpiStat,
    OutputError,
    Replication,
    SimConfig,
    SimulationResult,
    SimulatorOutput,
    kpi_names,
    parse_output,
)
from .stats import aggregate, mean_ci, t_quantile

__all__ = [
    "KPI_MODELS",
    "CallCenterKpis",
    "CareKpis",
    "CommonKpis",
    "CoverageCount",
    "KpiStat",
    "OutputError",
    "Replication",
    "SimConfig",
    "SimulationResult",
    "SimulatorOutput",
    "aggregate",
    "busiest_shift",
    "cover_roster",
    "kpi_names",
    "mean_ci",
    "parse_output",
    "plan_chunks",
    "run_chunk",
    "run_simulation",
    "simulator_files",
    "t_quantile",
    "without",
]
