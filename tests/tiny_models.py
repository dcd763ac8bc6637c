"""Small artifacts for tests and benchmarks: a random-weight tiny checkpoint, its export, a clip.

Random weights are enough for parity and speed (neither depends on training); the edge embedding
gets non-zero weights so the edge input matters in every comparison.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from lcr_edge.labels import JESTER_LABELS
from lcr_edge.model import create_model
from lcr_edge.model.checkpoint import save_checkpoint


def tiny_checkpoint(path: Path, variant: str = "lcr-s", num_classes: int = 5, seed: int = 0,
                    **overrides) -> Path:
    torch.manual_seed(seed)
    model = create_model(variant, num_classes=num_classes, **overrides)
    with torch.no_grad():
        torch.nn.init.normal_(model.edge_embed.weight, std=0.05)
        torch.nn.init.normal_(model.edge_cls, std=0.05)
    save_checkpoint(path, model, JESTER_LABELS[:num_classes])
    return path


def random_batches(n: int = 2, batch: int = 2, frames: int = 8, classes: int = 5, seed: int = 0,
                   size: int = 112):
    """(frames, edges, labels) batches of noise, for calibration/QAT plumbing tests."""
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(batch, frames, 3, size, size, generator=g),
             (torch.rand(batch, frames, 1, size, size, generator=g) > 0.85).float(),
             torch.randint(0, classes, (batch,), generator=g)) for _ in range(n)]


def artifact(base: Path, variant: str = "lcr-s", int8: bool = False, **overrides) -> Path:
    """Export (once per folder) a random-weight model; with int8, PTQ + 2 QAT steps on noise."""
    from lcr_edge.quantize.export import export_fp32
    from lcr_edge.quantize.pipeline import QuantizeConfig, quantize_model

    out = Path(base)
    if (out / "model.json").is_file():
        return out
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = tiny_checkpoint(out.parent / f"{out.name}.pt", variant, **overrides)
    from lcr_edge.model.checkpoint import load_checkpoint

    model, ckpt = load_checkpoint(ckpt_path)
    if int8:
        cfg = QuantizeConfig(epochs=1, steps=2, calibration=16)
        quantize_model(model, ckpt, ckpt_path, out, random_batches(), None, cfg,
                       log=lambda *_: None)
    else:
        export_fp32(model, ckpt, ckpt_path, out)
    return out


def clip(n: int = 40, seed: int = 0) -> list[np.ndarray]:
    """n BGR uint8 frames (Jester-sized) with motion, from lcr_edge.bench."""
    from lcr_edge.bench import synthetic_frames

    return synthetic_frames(n, seed=seed)


def has_vnni() -> bool:
    """The CPU multiplies INT8 with 32-bit sums (AVX-512 VNNI or AVX-VNNI)."""
    try:
        flags = open("/proc/cpuinfo").read().split()
    except OSError:
        return True
    return "avx512_vnni" in flags or "avx_vnni" in flags
