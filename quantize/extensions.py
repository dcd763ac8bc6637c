"""NNCF's PyTorch backend compiles a small C++ extension on first use (about 30 s; far longer on a
busy machine). Two things go wrong with it: its 60-second build timeout fires under load, and a
build killed midway leaves a `lock` file that makes the next run wait for ever. `prepare()` raises
the timeout (unless the user set one) and removes locks no running build can own.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

BUILD_TIMEOUT_S = "900"  # NNCF_EXTENSION_LOAD_TIMEOUT: NNCF's own default is 60
STALE_LOCK_S = 1800  # a build takes minutes at most: an older lock was left by a killed one


def extensions_dir() -> Path:
    """Where torch.utils.cpp_extension builds (what NNCF's extension uses)."""
    env = os.environ.get("TORCH_EXTENSIONS_DIR")
    return Path(env) if env else Path.home() / ".cache" / "torch_extensions"


def prepare(now: float | None = None) -> list[Path]:
    """Raise NNCF's build timeout and delete stale build locks; returns the locks removed."""
    os.environ.setdefault("NNCF_EXTENSION_LOAD_TIMEOUT", BUILD_TIMEOUT_S)
    now = time.time() if now is None else now
    removed = []
    root = extensions_dir()
    if not root.is_dir():
        return removed
    for lock in root.glob("*/nncf/**/lock"):
        try:
            if now - lock.stat().st_mtime > STALE_LOCK_S:
                lock.unlink()
                removed.append(lock)
        except OSError:
            continue
    for lock in removed:
        warnings.warn(f"removed a stale build lock left by an interrupted run: {lock}", stacklevel=2)
    return removed
