"""Where the files that ship inside the package are (lcr_edge/assets/): the bundled model, the demo
clip and the player's demo playlist, and which model runs when none is named."""

from __future__ import annotations

import os
from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "assets"
BUNDLED_MODEL = ASSETS / "model"  # LCR-S, QAT-INT8, trained on synthetic gestures (docs/bundled.md)
DEMO_CLIP = ASSETS / "demo" / "gestures.mp4"  # six synthetic gestures in a row, 21 s
DEMO_PLAYLIST = ASSETS / "demo" / "playlist"


def default_model_dir() -> Path | None:
    """$LCR_EDGE_MODEL, else the bundled model (None only in an install without it)."""
    env = os.environ.get("LCR_EDGE_MODEL")
    if env:
        return Path(env)
    return BUNDLED_MODEL if (BUNDLED_MODEL / "model.json").is_file() else None
