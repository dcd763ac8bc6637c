"""Checkpoints: one dict saved with torch.save, loaded only with weights_only=True.

    {"format": "lcr-edge-checkpoint", "version": 1,
     "config": LCRConfig fields, "labels": [class names in order],
     "preprocess": Preprocess.to_dict(), "model": state_dict,
     # training checkpoints add: "optimizer", "scheduler", "epoch", "step", "rng", "metrics",
     # "train_config", ...}

Everything a later stage needs (variant, labels, preprocessing) travels inside, so `export`,
`quantize`, `eval` and the app never need to be told again.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from lcr_edge.errors import LCRError
from lcr_edge.io import atomic_path, file_sha256  # noqa: F401  (re-exported)
from lcr_edge.model.lcr import LCR, LCRConfig
from lcr_edge.preprocess import Preprocess

FORMAT = "lcr-edge-checkpoint"


def save_checkpoint(path, model: LCR, labels, preprocess: Preprocess | None = None, **extra) -> None:
    """Write atomically: a crash mid-write leaves the previous file intact."""
    if len(labels) != model.config.num_classes:
        raise LCRError(f"{len(labels)} labels for a model with {model.config.num_classes} classes")
    model = getattr(model, "module", model)  # unwrap DDP
    ckpt = {"format": FORMAT, "version": 1, "config": model.config.to_dict(), "labels": list(labels),
            "preprocess": (preprocess or Preprocess()).to_dict(),
            "model": {k: v.detach().cpu() for k, v in model.state_dict().items()}, **extra}
    save_torch(ckpt, path)


def save_torch(obj, path) -> None:
    """torch.save, atomically; a short write (full disk, file-size limit), which torch's writer
    reports as a RuntimeError from its C++ core, is one LCRError naming the file."""
    with atomic_path(path) as tmp:
        try:
            torch.save(obj, tmp)
        except RuntimeError as exc:
            first = (str(exc).strip().splitlines() or [""])[0][:160]
            raise LCRError(f"could not write {path}: {first} (a full disk or a file-size limit? "
                           f"free some space and run it again)") from None


def read_checkpoint(path) -> dict:
    """Load the raw dict (weights_only=True); one clear LCRError for anything that is not ours."""
    path = Path(path)
    if not path.is_file():
        raise LCRError(f"{path}: no such checkpoint file")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, empty, not a torch file, pickled code...
        first = (str(exc).splitlines() or [""])[0][:200]
        raise LCRError(f"{path}: not a readable LCR-Edge checkpoint ({type(exc).__name__}"
                       f"{': ' + first if first else ''})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise LCRError(f"{path}: not an LCR-Edge checkpoint (no '{FORMAT}' format tag)")
    for key, kind in (("config", dict), ("labels", list), ("model", dict)):
        if not isinstance(ckpt.get(key), kind):
            raise LCRError(f"{path}: damaged checkpoint: '{key}' is missing or not a {kind.__name__}")
    if not all(isinstance(x, str) for x in ckpt["labels"]):
        raise LCRError(f"{path}: damaged checkpoint: its labels are not all names")
    if not isinstance(ckpt.get("preprocess"), dict):  # saved before preprocessing travelled inside
        ckpt["preprocess"] = Preprocess().to_dict()
    check_sampling(ckpt.get("sampling"), f"{path}: sampling")
    return ckpt


def check_sampling(sampling, where: str) -> None:
    """How a model was trained to see frames (None: not recorded): whole frame counts and strides
    of at least 1, rates that are finite and above 0, mode clip or stream; else one LCRError."""
    if sampling is None:
        return
    if not isinstance(sampling, dict):
        raise LCRError(f"{where} must be a table of frames, stride and source_fps")
    for key, kind in (("frames", int), ("stride", int), ("source_fps", float),
                      ("frame_rate", float)):
        if key not in sampling:
            continue
        v = sampling[key]
        ok = isinstance(v, int) and not isinstance(v, bool) if kind is int else \
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        if not ok or v <= 0 or (kind is int and v < 1):
            what = "a whole number of at least 1" if kind is int else "a finite number above 0"
            raise LCRError(f"{where}.{key} must be {what}, got {v!r}")
    if sampling.get("mode", "clip") not in ("clip", "stream"):
        raise LCRError(f"{where}.mode must be clip or stream, got {sampling['mode']!r}")


def check_finite(model: torch.nn.Module, where: str) -> None:
    """Weights holding NaN or infinity (a diverged run) answer NaN or nothing: refuse them."""
    bad = [name for name, t in model.state_dict().items()
           if t.is_floating_point() and not torch.isfinite(t).all()]
    if bad:
        raise LCRError(f"{where}: {len(bad)} weight tensor(s) hold NaN or infinity ({bad[0]}"
                       f"{', ...' if len(bad) > 1 else ''}): the training run that wrote it "
                       f"diverged; use an earlier checkpoint")


def load_checkpoint(path, device="cpu") -> tuple[LCR, dict]:
    """-> (model in eval mode, the checkpoint dict)."""
    ckpt = read_checkpoint(path)
    try:
        # saved before the head, motion or stem option existed: trained with the CLS head on the
        # patches of x_t by eq. 1's projection (not LCRConfig's defaults, the recipe of today)
        config = {"head": "cls", "motion": "none", "stem": "patch", **ckpt["config"]}
        model = LCR(LCRConfig(**config))
        model.load_state_dict(ckpt["model"])
    except (TypeError, KeyError, RuntimeError) as exc:
        raise LCRError(f"{path}: checkpoint does not match the model ({str(exc)[:300]})") from None
    check_finite(model, str(path))
    return model.to(device).eval(), ckpt
