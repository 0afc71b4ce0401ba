"""Confidence intervals of KPI means."""

import pytest

from alchemist.simulate.stats import mean_ci


def test_interval_of_a_nonnegative_kpi_stays_nonnegative():
    stat = mean_ci([0, 0, 0, 0, 3])
    assert stat.mean == pytest.approx(0.6)
    assert stat.ci_low == 0.0 and stat.ci_high > stat.mean


def test_interval_of_a_signed_kpi_is_symmetric():
    stat = mean_ci([-2.0, 1.0, 3.0])
    assert stat.ci_low == pytest.approx(stat.mean - stat.half_width)
    assert stat.ci_high == pytest.approx(stat.mean + stat.half_width)
