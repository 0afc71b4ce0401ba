"""`Manifest`: what a version is made of and how it was produced (stored as manifest.json)."""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from alchemist.sandbox.base import Sandbox

MANIFEST_PATH = "manifest.json"
SPEC_PATH = "spec.yaml"
RESULT_OPTIMIZER = "results/optimizer.json"  # OptimizerResult JSON
RESULT_SIMULATION = "results/simulation.json"  # SimulationResult JSON
RESULT_SIM_SCHEDULE = "results/simulation_schedule.json"  # the roster that was simulated
RESULT_ROSTER = "results/roster.csv"

# Packages whose versions change the numbers a version's code produces.
PACKAGES = ("pyomo", "highspy", "simpy", "numpy", "pydantic", "alchemist")


class Manifest(BaseModel):
    """One version's record. `code_hashes` pins every stored file except manifest.json."""

    model_config = ConfigDict(extra="allow")

    version: str = ""  # "v3", filled by Workspace.record
    parent: str | None = None
    created: str = ""  # ISO 8601, UTC
    message: str = ""
    spec_hash: str = ""  # ProblemSpec.content_hash(); filled from spec.yaml when empty
    code_hashes: dict[str, str] = Field(default_factory=dict)  # path -> sha256 hex
    packages: dict[str, str] = Field(default_factory=dict)
    coders: dict[str, str] = Field(default_factory=dict)  # agent -> "template" | "llm:<model>"
    seeds: dict[str, int] = Field(default_factory=dict)
    options: dict[str, Any] = Field(
        default_factory=dict
    )  # {"optimizer": {...}, "simulation": {...}}
    results: dict[str, Any] = Field(default_factory=dict)
    tests: dict[str, Any] = Field(default_factory=dict)
    mbr: dict[str, Any] | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """Canonical text (sorted keys) so the manifest's own digest is reproducible."""
        doc = self.model_dump(mode="json")
        return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Manifest:
        return cls.model_validate_json(raw)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def spec_hash_of(raw: bytes | None) -> str | None:
    """`ProblemSpec.content_hash()` of a stored spec.yaml; None without one."""
    if raw is None:
        return None
    from alchemist.spec import SpecError, parse_spec_yaml

    try:
        return parse_spec_yaml(raw.decode(), SPEC_PATH).content_hash()
    except (SpecError, UnicodeDecodeError):
        return "unparseable"


_PROBE = (
    "import json, platform\n"
    "from importlib import metadata\n"
    "out = {'python': platform.python_version()}\n"
    f"for name in {PACKAGES!r}:\n"
    "    try:\n"
    "        out[name] = metadata.version(name)\n"
    "    except metadata.PackageNotFoundError:\n"
    "        pass\n"
    "print(json.dumps(out))\n"
)


def runtime_versions(sandbox: Sandbox | None = None) -> dict[str, str]:
    """Versions of python and the numeric packages (highspy's version is HiGHS's).

    With a sandbox, they are read inside it: the generated code runs there, and a Docker
    image may carry other versions than this process.
    """
    if sandbox is not None:
        try:
            run = sandbox.run(["python", "-c", _PROBE], {})
            if run.ok:
                found = json.loads(run.stdout.strip().splitlines()[-1])
                return {str(k): str(v) for k, v in found.items()}
        except Exception:  # noqa: BLE001 - versions are informative; fall back to this process
            pass
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out
