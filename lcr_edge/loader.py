"""Opening an exported model folder the way `lcr-edge run`, the app and the evaluations do: the
default model when none is named, the checks that give one-line errors, and a warning for a model
whose quantization did not finish. The recognizer itself is `lcr_edge.runtime.Recognizer`."""

from __future__ import annotations

import sys
from pathlib import Path

from lcr_edge import paths
from lcr_edge.artifact import check_backend
from lcr_edge.errors import LCRError
from lcr_edge.runtime import Recognizer


def load_recognizer(model_dir: str | Path | None, backend: str = "openvino",
                    threads: int | None = None, horizon: int | None = None) -> Recognizer:
    """Open an exported model folder (None: $LCR_EDGE_MODEL, else the bundled model)."""
    model_dir = model_dir or paths.default_model_dir()
    if model_dir is None:
        raise LCRError("no model: pass --model DIR (an exported model folder) or set "
                       "LCR_EDGE_MODEL")
    check_backend(backend)
    if not Path(model_dir).exists():
        raise LCRError(f"{model_dir}: no such model folder")
    rec = Recognizer.open(model_dir, backend=backend, threads=threads, horizon=horizon)
    note = unfinished_quantize(rec.metadata)
    if note:
        print(f"warning: {model_dir}: {note}", file=sys.stderr)
    return rec


def unfinished_quantize(meta: dict) -> str | None:
    """A line when model.json says its `lcr-edge quantize` did not finish (FP32 files only)."""
    q = meta.get("quantization") if isinstance(meta, dict) else None
    if isinstance(q, dict) and q.get("complete") is False:
        return ("its `lcr-edge quantize` did not finish (interrupted?): running the FP32 files; "
                "run the quantize again for INT8")
    return None
