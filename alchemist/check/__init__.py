"""The trusted, hand-written schedule evaluator: hard violations and the soft penalty breakdown.

    from alchemist.check import check
    report = check(spec, schedule)
    report.feasible, report.objective, report.penalties, report.summary()

It shares no code with what the agents generate; the constraint semantics are the
docstrings of `alchemist.spec.model` (choices on open points: `alchemist.check.evaluate`).
"""

from .evaluate import check
from .report import CheckReport, CoverCount, Penalty, Violation

__all__ = ["CheckReport", "CoverCount", "Penalty", "Violation", "check"]
