"""Where the data folders live: `agents/` (the agents as data) and `scenarios/`.

In a source checkout (what `make` installs, editable) they sit next to the package; a built
wheel installs copies as shared data under `<prefix>/share/alchemist/` (see pyproject.toml).
An environment variable `ALCHEMIST_AGENTS_DIR` / `ALCHEMIST_SCENARIOS_DIR` overrides both, so a
team can keep its own agents or scenarios elsewhere.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
SHARED = Path(sys.prefix) / "share" / "alchemist"


def data_dir(name: str) -> Path:
    override = os.environ.get(f"ALCHEMIST_{name.upper()}_DIR")
    if override:
        return Path(override)
    checkout = PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    return SHARED / name
