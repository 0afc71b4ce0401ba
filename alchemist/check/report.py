"""The checker's verdict on a roster: hard violations, soft penalties, coverage counts.

Everything here is plain data (pydantic), so a report can be stored in a version manifest,
sent over the HTTP API, compared with what generated code claims, and shown to an analyst.
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, ConfigDict, Field, computed_field


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True)


class Violation(_Data):
    """One broken hard rule (or structural defect of the roster)."""

    constraint_id: str
    kind: str = Field(description="constraint kind, or one_shift_per_day / invalid_assignment")
    staff: str | None = None
    day: int | None = Field(default=None, description="day (0-based) where it happens or starts")
    shift: str | None = None
    amount: float = Field(description="how much the rule is broken, in the kind's unit")
    message: str = Field(description="what is wrong, in the analyst's words")


class Penalty(_Data):
    """One nonzero soft amount and what it costs in the objective."""

    constraint_id: str
    kind: str
    term: str = Field(description="objective term: the kind, or cover_under / cover_over / cost")
    staff: str | None = None
    day: int | None = None
    shift: str | None = None
    amount: float
    weight: float = Field(description="rule weight x objective_weight multipliers of the term")
    penalty: float = Field(description="weight x amount")
    message: str = ""


class CoverCount(_Data):
    """Staff counted for one cover rule on one day (what a deterministic simulation must see)."""

    constraint_id: str
    day: int
    shift: str
    skill: str | None = None
    assigned: int
    min: int
    preferred: int
    max: int | None = None


class CheckReport(BaseModel):
    """Result of `alchemist.check.check(spec, schedule)`."""

    hard_violations: list[Violation] = Field(default_factory=list)
    penalties: dict[str, float] = Field(
        default_factory=dict, description="soft penalty per objective term (after multipliers)"
    )
    details: list[Penalty] = Field(default_factory=list)
    objective: float = Field(default=0.0, description="sum of penalties")
    coverage: list[CoverCount] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def feasible(self) -> bool:
        """True when no hard rule (and no structural rule) is broken."""
        return not self.hard_violations

    def violations_by_kind(self) -> dict[str, int]:
        return dict(Counter(v.kind for v in self.hard_violations))

    def summary(self, max_lines: int = 5) -> str:
        """A few lines for people: feasibility, the objective by term, the first violations."""
        lines: list[str] = []
        if self.feasible:
            lines.append("Feasible: every hard rule holds.")
        else:
            kinds = ", ".join(f"{k} x{n}" for k, n in sorted(self.violations_by_kind().items()))
            n = len(self.hard_violations)
            lines.append(f"Infeasible: {n} hard violation{'s' if n != 1 else ''} ({kinds}).")
        terms = " + ".join(f"{t} {_num(v)}" for t, v in self.penalties.items() if v)
        lines.append(f"Objective {_num(self.objective)}" + (f" = {terms}" if terms else ""))
        for v in self.hard_violations[:max_lines]:
            lines.append(f"  - {v.message}")
        more = len(self.hard_violations) - max_lines
        if more > 0:
            lines.append(f"  ... and {more} more violation(s)")
        return "\n".join(lines)

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)


def _num(x: float) -> str:
    """7137.0 -> '7137', 2.5 -> '2.5', without float noise or exponents."""
    r = round(x, 6)
    if r == int(r):
        return str(int(r))
    return f"{r:.6f}".rstrip("0").rstrip(".")
