"""Validation top-1 of a model at every stage of export: PyTorch FP32, fake-quantized PyTorch, and
the exported files themselves run through `lcr_edge.runtime` backends (what users deploy).

Clip score as the paper's Jester protocol (and training.evaluate): for each class the highest
probability over the clip's last 0.83 s (10 frames at 12 fps: `lcr_edge.scoring.paper_window` of the
rate the model was trained at); the clip's prediction is the best class by that.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from lcr_edge.errors import LCRError
from lcr_edge.labels import CLIP_FRAMES, JESTER_FPS
from lcr_edge.preprocess import Preprocess
from lcr_edge.scoring import paper_scores, paper_window


class Triples:
    """Re-iterable `triples(loader)` with the loader's length (epochs, progress bars)."""

    def __init__(self, loader):
        self.loader = loader

    def __iter__(self):
        return triples(self.loader)

    def __len__(self):
        return len(self.loader)


def triples(loader):
    """(frames [B,F,3,S,S], edges [B,F,1,S,S], labels [B]) from training.data batches or tuples."""
    for batch in loader:
        if hasattr(batch, "frames"):
            batch = (batch.frames, batch.edges, batch.labels)
        frames, edges, labels = batch[:3]
        if len(labels):
            yield frames, edges, labels


def _loader(data: Path, ckpt: dict, split: str, train: bool, limit: int | None, frames: int,
            batch_size: int, workers: int, shuffle: bool, holdout: int = 0, part: str = "rest"):
    try:
        from lcr_edge.training.data import ClipDataset, make_loader
    except ImportError as exc:
        raise LCRError(f"--data needs the training package (training.data): {exc}") from None
    pre = Preprocess.from_dict(ckpt["preprocess"]) if "preprocess" in ckpt else Preprocess()
    stride = int((ckpt.get("sampling") or {}).get("stride") or 1)  # as the model was trained
    ds = ClipDataset.from_dir(data, split=split, frames=frames, train=train, preprocess=pre,
                              stride=stride)
    if list(ds.labels) != list(ckpt["labels"]):
        raise LCRError(f"{data}: its labels differ from the checkpoint's ({len(ds.labels)} vs "
                       f"{len(ckpt['labels'])} classes, or another order)")
    if limit and limit < len(ds.clips):  # evenly spaced, so every class keeps some clips
        idx = np.linspace(0, len(ds.clips) - 1, limit).round().astype(int)
        ds.clips = [ds.clips[i] for i in idx]
    if holdout or part == "holdout":
        # evenly spaced clips set aside (every class keeps some); a small set keeps at least
        # three quarters of its clips for training (and may hold out none)
        n = min(holdout, len(ds.clips) // 4)
        held = set(np.linspace(0, len(ds.clips) - 1, n).round().astype(int).tolist()) if n else set()
        ds.clips = [c for i, c in enumerate(ds.clips) if (i in held) == (part == "holdout")]
    return make_loader(ds, batch_size=batch_size, shuffle=shuffle, workers=workers)


def validation_loader(data, ckpt: dict, limit: int | None = None, frames: int = CLIP_FRAMES,
                      batch_size: int = 8, workers: int = 2):
    return _loader(Path(data), ckpt, "validation", False, limit, frames, batch_size, workers, False)


def train_loader(data, ckpt: dict, limit: int | None = None, frames: int = CLIP_FRAMES,
                 batch_size: int = 8, workers: int = 2, holdout: int = 0):
    """Augmented, shuffled training clips, without the `holdout` ones `holdout_loader` gives."""
    return _loader(Path(data), ckpt, "train", True, limit, frames, batch_size, workers, True,
                   holdout, "rest")


def holdout_loader(data, ckpt: dict, holdout: int, limit: int | None = None, frames: int = CLIP_FRAMES,
                   batch_size: int = 8, workers: int = 2):
    """`holdout` training clips (at most a quarter of them), evenly spaced, as validation sees
    them (no augmentation): QAT picks its step on them and never trains on them; the validation
    split stays untouched. None when the training split is too small to spare any."""
    loader = _loader(Path(data), ckpt, "train", False, limit, frames, batch_size, workers, False,
                     holdout, "holdout")
    return loader if len(loader.dataset) else None


def score_window(ckpt: dict) -> int:
    """The paper's window in frames at the rate the checkpoint's model was trained to see."""
    return paper_window(float((ckpt.get("sampling") or {}).get("frame_rate") or JESTER_FPS))


def top1(probs: np.ndarray, targets: np.ndarray, window: int) -> float:
    """Paper clip score over the last `window` frames -> top-1 in percent. probs [N,F,K], targets [N]."""
    return 100.0 * float((paper_scores(probs, window).argmax(-1) == targets).mean())


def summary(probs: np.ndarray, targets: np.ndarray, window: int) -> dict:
    return {"top1": round(top1(probs, targets, window), 2), "clips": int(len(targets)),
            "frames": int(probs.shape[1]), "score": f"max over the last {window} frames"}


@torch.no_grad()
def predict_step(step, loader) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame probabilities [N,F,K] and targets [N] from a step module (FP32 or fake-quant),
    state carried, batched over clips."""
    from lcr_edge.model.lcr import rollout

    step.eval()
    probs, targets = [], []
    for frames, edges, labels in triples(loader):
        logits, _ = rollout(step, frames, edges)
        probs.append(torch.softmax(logits.float(), -1).numpy())
        targets.append(labels.numpy())
    return _cat(probs, targets)


def predict_backend(backend, loader) -> tuple[np.ndarray, np.ndarray]:
    """The same with an exported file through a runtime backend (batch 1, clip by clip)."""
    from lcr_edge.runtime import softmax

    probs, targets = [], []
    for frames, edges, labels in triples(loader):
        x, e = frames.numpy(), edges.numpy()
        for b in range(x.shape[0]):
            backend.reset()
            probs.append(np.stack([softmax(backend.infer(x[b, t : t + 1], e[b, t : t + 1]))
                                   for t in range(x.shape[1])])[None])
        targets.append(labels.numpy())
    return _cat(probs, targets)


def _cat(probs, targets):
    if not probs:
        raise LCRError("no readable validation clips")
    return np.concatenate(probs), np.concatenate(targets)


def evaluate_torch(model, loader) -> dict:
    from lcr_edge.quantize.step import StepModule

    window = paper_window(loader.dataset.sampling.frame_rate)
    return summary(*predict_step(StepModule(model), loader), window)


def agreement(probs_a: np.ndarray, probs_b: np.ndarray, after: int = 10) -> float:
    """Percent of frames (after the first `after` of each clip; after half the clip for clips of
    10 frames or fewer) where the top-1 classes agree."""
    if probs_a.shape[1] <= after:
        after = probs_a.shape[1] // 2
    a, b = probs_a[:, after:].argmax(-1), probs_b[:, after:].argmax(-1)
    return round(100.0 * float((a == b).mean()), 2)
