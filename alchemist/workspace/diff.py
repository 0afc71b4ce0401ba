"""Differences between two versions: the spec (by constraint id), the code, the results."""

from __future__ import annotations

import difflib
import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from .manifest import MANIFEST_PATH, RESULT_OPTIMIZER, SPEC_PATH, Manifest, spec_hash_of

_MISSING = object()


class FieldChange(BaseModel):
    """`path` like `horizon.days`, `staff[id=n3].skills`; None stands for absent."""

    path: str
    old: Any = None
    new: Any = None

    def describe(self) -> str:
        if self.old is None:
            return f"{self.path}: added {_short(self.new)}"
        if self.new is None:
            return f"{self.path}: removed {_short(self.old)}"
        return f"{self.path}: {_short(self.old)} -> {_short(self.new)}"


class ConstraintChange(BaseModel):
    id: str
    kind: str
    change: Literal["added", "removed", "changed"]
    fields: list[FieldChange] = Field(default_factory=list)  # when changed
    old: dict[str, Any] | None = None
    new: dict[str, Any] | None = None

    def describe(self) -> str:
        if self.change != "changed":
            doc = self.new if self.change == "added" else self.old
            params = _compact({k: v for k, v in (doc or {}).items() if k not in ("id", "kind")})
            return f"{self.change} {self.id} ({self.kind}) {_short(params, 160)}"
        return f"changed {self.id} ({self.kind}): " + "; ".join(f.describe() for f in self.fields)


class SpecDiff(BaseModel):
    hash_a: str = ""
    hash_b: str = ""
    constraints: list[ConstraintChange] = Field(default_factory=list)
    fields: list[FieldChange] = Field(default_factory=list)  # everything but constraints

    @property
    def changed(self) -> bool:
        return bool(self.constraints or self.fields)


class KpiChange(BaseModel):
    """One number (or status) of the results, side by side."""

    name: str  # e.g. optimizer.objective, simulation.wait_mean_minutes (mean)
    a: Any = None
    b: Any = None

    @property
    def delta(self) -> float | None:
        nums = (int, float)
        ok = isinstance(self.a, nums) and isinstance(self.b, nums)
        if not ok or isinstance(self.a, bool) or isinstance(self.b, bool):
            return None
        return float(self.b) - float(self.a)

    @property
    def changed(self) -> bool:
        return self.a != self.b


class VersionDiff(BaseModel):
    a: str
    b: str
    spec: SpecDiff = Field(default_factory=SpecDiff)
    code: dict[str, str] = Field(default_factory=dict)  # path -> unified diff (changed files)
    added_files: list[str] = Field(default_factory=list)
    removed_files: list[str] = Field(default_factory=list)
    kpis: list[KpiChange] = Field(default_factory=list)
    roster: dict[str, int] | None = None  # assignments added / removed, when both have one

    @property
    def changed_kpis(self) -> list[KpiChange]:
        return [k for k in self.kpis if k.changed]


def _compact(value: Any) -> Any:
    """Drop empty lists, mappings and strings (an empty scope says nothing)."""
    if isinstance(value, dict):
        kept = {k: _compact(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in ([], {}, "", None)}
    return value


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _spec_doc(raw: bytes | None) -> dict[str, Any]:
    """The spec with defaults filled in (so a changed default shows), or the raw YAML."""
    if raw is None:
        return {}
    from alchemist.spec import SpecError, parse_spec_yaml
    from alchemist.spec.io import yaml_load

    try:
        return parse_spec_yaml(raw.decode(), SPEC_PATH).model_dump(mode="json")
    except (SpecError, UnicodeDecodeError):
        try:
            doc = yaml_load(raw.decode(errors="replace"))
        except Exception:  # noqa: BLE001 - an unreadable spec diffs as empty
            return {}
        return doc if isinstance(doc, dict) else {}


def _keyed(items: Any) -> dict[str, Any] | None:
    """A list of mappings with unique ids, keyed by id (else None: compared as a whole)."""
    if not isinstance(items, list) or not all(isinstance(i, dict) and "id" in i for i in items):
        return None
    keyed = {str(i["id"]): i for i in items}
    return keyed if len(keyed) == len(items) else None


def deep_diff(a: Any, b: Any, path: str = "") -> list[FieldChange]:
    if a == b:
        return []
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in [*a, *(k for k in b if k not in a)]:
            sub = f"{path}.{key}" if path else str(key)
            out += deep_diff(a.get(key, _MISSING), b.get(key, _MISSING), sub)
        return out
    ka, kb = _keyed(a), _keyed(b)
    if ka is not None and kb is not None and (ka or kb):
        out = []
        for key in [*ka, *(k for k in kb if k not in ka)]:
            out += deep_diff(ka.get(key, _MISSING), kb.get(key, _MISSING), f"{path}[id={key}]")
        return out
    return [
        FieldChange(
            path=path or "(spec)",
            old=None if a is _MISSING else a,
            new=None if b is _MISSING else b,
        )
    ]


def diff_specs(raw_a: bytes | None, raw_b: bytes | None) -> SpecDiff:
    a, b = _spec_doc(raw_a), _spec_doc(raw_b)
    ca = {str(c.get("id")): c for c in a.pop("constraints", []) or [] if isinstance(c, dict)}
    cb = {str(c.get("id")): c for c in b.pop("constraints", []) or [] if isinstance(c, dict)}
    changes = []
    for cid in [*ca, *(k for k in cb if k not in ca)]:
        old, new = ca.get(cid), cb.get(cid)
        kind = str((new or old or {}).get("kind", "?"))
        if old is None:
            changes.append(ConstraintChange(id=cid, kind=kind, change="added", new=new))
        elif new is None:
            changes.append(ConstraintChange(id=cid, kind=kind, change="removed", old=old))
        elif old != new:
            changes.append(
                ConstraintChange(
                    id=cid,
                    kind=kind,
                    change="changed",
                    fields=deep_diff(old, new),
                    old=old,
                    new=new,
                )
            )
    return SpecDiff(
        hash_a=spec_hash_of(raw_a) or "",
        hash_b=spec_hash_of(raw_b) or "",
        constraints=changes,
        fields=deep_diff(a, b),
    )


def flatten_results(results: dict[str, Any]) -> dict[str, Any]:
    """manifest.results as `component.name -> scalar`; KPI statistics give their mean."""
    out: dict[str, Any] = {}

    def walk(node: Any, name: str) -> None:
        if isinstance(node, dict):
            if "mean" in node and isinstance(node["mean"], int | float):
                out[name] = node["mean"]
                return
            for key, value in node.items():
                walk(value, f"{name}.{key}" if name else str(key))
        elif node is None or isinstance(node, str | int | float | bool):
            out[name] = node

    for component, doc in results.items():
        # the aggregate level adds nothing to a KPI's name
        if isinstance(doc, dict) and isinstance(doc.get("aggregate"), dict):
            doc = {**{k: v for k, v in doc.items() if k != "aggregate"}, **doc["aggregate"]}
        walk(doc, component)
    return out


def _manifest(files: dict[str, bytes]) -> Manifest | None:
    try:
        return Manifest.from_bytes(files[MANIFEST_PATH])
    except Exception:  # noqa: BLE001 - a version without a readable manifest has no results
        return None


def _assignments(files: dict[str, bytes]) -> set[tuple[str, int, str]] | None:
    try:
        doc = json.loads(files[RESULT_OPTIMIZER])
        return {(a["staff"], int(a["day"]), a["shift"]) for a in doc.get("assignments", [])}
    except (KeyError, ValueError, TypeError):
        return None


def diff_versions(
    a: str, b: str, files_a: dict[str, bytes], files_b: dict[str, bytes]
) -> VersionDiff:
    out = VersionDiff(a=a, b=b, spec=diff_specs(files_a.get(SPEC_PATH), files_b.get(SPEC_PATH)))

    # spec.yaml is diffed structurally above; results numerically below
    def is_code(path: str) -> bool:
        return path not in (MANIFEST_PATH, SPEC_PATH) and not path.startswith("results/")

    paths_a = {p for p in files_a if is_code(p)}
    paths_b = {p for p in files_b if is_code(p)}
    out.added_files = sorted(paths_b - paths_a)
    out.removed_files = sorted(paths_a - paths_b)
    for path in sorted(paths_a | paths_b):
        old, new = files_a.get(path, b""), files_b.get(path, b"")
        if old == new:
            continue
        try:
            lines_a = old.decode().splitlines(keepends=True)
            lines_b = new.decode().splitlines(keepends=True)
        except UnicodeDecodeError:
            out.code[path] = f"binary file {path} differs\n"
            continue
        name_a = f"{a}/{path}" if path in files_a else "/dev/null"
        name_b = f"{b}/{path}" if path in files_b else "/dev/null"
        out.code[path] = "".join(difflib.unified_diff(lines_a, lines_b, name_a, name_b))

    ma, mb = _manifest(files_a), _manifest(files_b)
    ra = flatten_results(ma.results) if ma else {}
    rb = flatten_results(mb.results) if mb else {}
    out.kpis = [
        KpiChange(name=k, a=ra.get(k), b=rb.get(k)) for k in [*ra, *(k for k in rb if k not in ra)]
    ]

    sa, sb = _assignments(files_a), _assignments(files_b)
    if sa is not None and sb is not None:
        out.roster = {"added": len(sb - sa), "removed": len(sa - sb), "kept": len(sa & sb)}
    return out
