"""Means and Student-t 95% confidence intervals over replications (the trusted side).

The generated simulator carries its own copy of these formulas (it cannot import
alchemist); `tests/test_simulate_stats.py` checks that both agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from .schemas import KpiStat


def t_quantile(df: int, confidence: float = 0.95) -> float:
    """Two-sided Student-t quantile: P(|T| <= t) = confidence, by bisection on the exact CDF."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    lo, hi = 0.0, 1.0
    while _t_abs_cdf(hi, df) < confidence:
        hi *= 2.0
    for _ in range(80):
        mid = (lo + hi) / 2.0
        if _t_abs_cdf(mid, df) < confidence:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


def _t_abs_cdf(t: float, df: int) -> float:
    """P(|T| <= t) for integer degrees of freedom (Abramowitz & Stegun 26.7.3-4)."""
    theta = math.atan(t / math.sqrt(df))
    s, c = math.sin(theta), math.cos(theta)
    if df == 1:
        return 2.0 * theta / math.pi
    term = total = c if df % 2 else 1.0
    for k in range(3 if df % 2 else 2, df - 1, 2):
        term *= c * c * (k - 1) / k
        total += term
        if term < 1e-18:
            break
    return 2.0 / math.pi * (theta + s * total) if df % 2 else s * total


def mean_ci(values: Sequence[float], confidence: float = 0.95, exact: bool = False) -> KpiStat:
    """Mean, sample std and t-interval. One value: no interval, unless `exact` (no randomness)."""
    n = len(values)
    if n == 0:
        raise ValueError("no values to aggregate")
    mean = math.fsum(values) / n
    if n < 2:
        point = mean if exact else None
        return KpiStat(
            mean=mean, std=0.0, half_width=0.0 if exact else None, ci_low=point, ci_high=point, n=n
        )
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = t_quantile(n - 1, confidence) * std / math.sqrt(n)
    low = mean - half
    if low < 0 <= min(values):  # counts, waits, rates: the mean of such a KPI is never negative
        low = 0.0
    return KpiStat(mean=mean, std=std, half_width=half, ci_low=low, ci_high=mean + half, n=n)


def aggregate(
    kpis: Sequence[Mapping[str, float]], names: Iterable[str], exact: bool = False
) -> dict[str, KpiStat]:
    """One `KpiStat` per KPI name over the replications' KPI dicts (in replication order)."""
    return {name: mean_ci([float(k[name]) for k in kpis], exact=exact) for name in names}


def mean_by_key(dicts: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Per key, the mean over the dicts that have it (fatigue per nurse)."""
    keys = sorted({k for d in dicts for k in d})
    return {
        k: math.fsum(d[k] for d in dicts if k in d) / sum(1 for d in dicts if k in d) for k in keys
    }
