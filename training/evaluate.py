"""Clip evaluation, for every form of a model: per-frame probabilities of each clip, then the clip
scores, top-1 / top-5, per-class accuracy and a confusion matrix.

    a source: (frames [B,F,3,S,S], edges [B,F,1,S,S]) -> per-frame probabilities [B,F,K]
        forward_probs(model)       a PyTorch LCR, `forward` over whole clips (training, checkpoints)
        step_probs(step)           a step module rolled over the clip: FP32 or fake-quantized INT8
        backend_probs(backend)     an exported file through a runtime backend, clip by clip
    predict(source, loader) -> EvalResult
    evaluate_model(path, data)     what `lcr-edge eval` scores: a checkpoint, or an exported folder
                                   through its INT8 file where it has one

Two clip scores: the paper's (for each class, the highest probability over the clip's last 0.83 s,
10 frames at Jester's 12 fps, `lcr_edge.scoring`; the clip's prediction is the best class by that)
and the last frame's. Event-level evaluation on long streams: training.stream_eval.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lcr_edge.errors import LCRError
from lcr_edge.labels import JESTER_FPS
from lcr_edge.scoring import PAPER_LAST_FRAMES, paper_scores, paper_window


@dataclass
class EvalResult:
    labels: list[str]
    probs: np.ndarray  # (N, F, K) per-frame probabilities
    targets: np.ndarray  # (N,)
    keys: list[str]
    skipped: int = 0
    window: int = PAPER_LAST_FRAMES  # frames in the paper's score window (`paper_window`)

    def scores(self, how: str = "paper") -> np.ndarray:
        """(N, K) clip scores: 'paper' = max over the last `window` frames, 'last' = the last frame."""
        if how == "last":
            return self.probs[:, -1]
        return paper_scores(self.probs, self.window)

    def metrics(self) -> dict:
        """What `lcr-edge eval` prints and writes to metrics.json (fractions)."""
        out = {"clips": int(len(self.targets)), "skipped": self.skipped, "paper_window": self.window}
        if not len(self.targets):
            return out
        for how in ("paper", "last"):
            s = self.scores(how)
            top5 = np.argsort(-s, axis=1)[:, :5]
            out[f"top1_{how}"] = float((top5[:, 0] == self.targets).mean())
            out[f"top5_{how}"] = float((top5 == self.targets[:, None]).any(axis=1).mean())
        pred = self.scores("paper").argmax(1)
        out["per_class"] = {}
        for k, name in enumerate(self.labels):
            m = self.targets == k
            if m.any():
                out["per_class"][name] = float((pred[m] == k).mean())
        return out

    def summary(self) -> dict:
        """The accuracy entry of model.json (quantize, export): paper-score top-1 in percent."""
        if not len(self.targets):
            raise LCRError("no readable clips to measure accuracy on")
        top1 = 100.0 * float((self.scores().argmax(-1) == self.targets).mean())
        return {"top1": round(top1, 2), "clips": int(len(self.targets)),
                "frames": int(self.probs.shape[1]), "score": f"max over the last {self.window} frames"}

    def report(self) -> dict:
        """Held-out accuracy as `lcr-edge finetune` reports it (percent, per class, the confusion
        matrix); {} without clips."""
        if not len(self.targets):
            return {}
        m = self.metrics()
        return {"top1": round(100 * m["top1_paper"], 2), "top1_last_frame": round(100 * m["top1_last"], 2),
                "clips": m["clips"], "per_class": {k: round(100 * v, 1) for k, v in m["per_class"].items()},
                "confusion": self.confusion().tolist()}

    def confusion(self, how: str = "paper") -> np.ndarray:
        K = len(self.labels)
        cm = np.zeros((K, K), dtype=np.int64)
        np.add.at(cm, (self.targets, self.scores(how).argmax(1)), 1)
        return cm


def forward_probs(model, device="cpu", autocast=None):
    """A PyTorch LCR as a source: `forward` over whole clips (under bf16 autocast when `autocast`)."""
    model.eval()
    device = torch.device(device)

    @torch.no_grad()
    def probs(frames, edges) -> np.ndarray:
        with torch.autocast(device_type=device.type, dtype=autocast, enabled=autocast is not None):
            logits = model(frames.to(device), edges.to(device))
        return torch.softmax(logits.float(), dim=-1).cpu().numpy()

    return probs


def step_probs(step):
    """A step module (quantize.step.StepModule, FP32 or fake-quantized) as a source: rolled over
    each clip frame by frame, state carried, the clips of a batch side by side."""
    from lcr_edge.model.lcr import rollout

    step.eval()

    @torch.no_grad()
    def probs(frames, edges) -> np.ndarray:
        logits, _ = rollout(step, frames, edges)
        return torch.softmax(logits.float(), -1).numpy()

    return probs


def backend_probs(backend):
    """An exported file through a `lcr_edge.runtime` backend as a source: batch 1, each clip from
    a fresh state, frame by frame (as `lcr-edge run` feeds it)."""
    from lcr_edge.runtime import softmax

    def probs(frames, edges) -> np.ndarray:
        x, e = frames.numpy(), edges.numpy()
        out = []
        for b in range(x.shape[0]):
            backend.reset()
            out.append(np.stack([softmax(backend.infer(x[b, t : t + 1], e[b, t : t + 1]))
                                 for t in range(x.shape[1])]))
        return np.stack(out)

    return probs


def predict(source, loader, labels=None, window: int | None = None, progress=None) -> EvalResult:
    """Per-frame probabilities of every clip of `loader` (training.data batches, or (frames, edges,
    labels) tuples) from `source`. labels, window: the loader's dataset's by default (its labels,
    the paper's window at its frame rate). progress: a tqdm bar, advanced by clips."""
    dataset = getattr(loader, "dataset", None)
    labels = list(dataset.labels if labels is None else labels)
    window = window or paper_window(dataset.sampling.frame_rate)
    probs, targets, keys, skipped = [], [], [], 0
    for batch in loader:
        skipped += len(getattr(batch, "skipped", ()))
        frames, edges, clip_labels = batch
        if not len(clip_labels):
            continue
        probs.append(source(frames, edges))
        targets.append(clip_labels.numpy().astype(np.int64))
        keys += getattr(batch, "keys", [])
        if progress is not None:
            progress.update(len(clip_labels))
    if not probs:
        return EvalResult(labels, np.zeros((0, 1, len(labels))), np.zeros(0, np.int64), [], skipped,
                          window)
    return EvalResult(labels, np.concatenate(probs), np.concatenate(targets), keys, skipped, window)


def score_window(info: dict) -> int:
    """The paper's window in frames at the rate a checkpoint's model was trained to see."""
    return paper_window(float((info.get("sampling") or {}).get("frame_rate") or JESTER_FPS))


def agreement(probs_a: np.ndarray, probs_b: np.ndarray, after: int = 10) -> float:
    """Percent of frames (after the first `after` of each clip; after half the clip for clips of
    10 frames or fewer) where the top-1 classes agree."""
    if probs_a.shape[1] <= after:
        after = probs_a.shape[1] // 2
    a, b = probs_a[:, after:].argmax(-1), probs_b[:, after:].argmax(-1)
    return round(100.0 * float((a == b).mean()), 2)


def evaluate_model(model, data, split="validation", frames=None, backend="openvino", batch=8,
                   workers=2, quiet=False) -> EvalResult:
    """Every clip of `data`'s `split` as `lcr-edge eval` scores it, with the model's labels,
    preprocessing, frames a clip and stride: a checkpoint in PyTorch, an exported folder frame by
    frame through `backend` (its INT8 file where it has one), state carried, as `lcr-edge run`
    would see it. quiet: no progress bar and no line on stderr."""
    from tqdm import tqdm

    from lcr_edge.training.data import clips_for_model, make_loader

    if Path(model).is_dir():
        from lcr_edge import artifact
        from lcr_edge.runtime import default_precision, open_backend

        if backend not in ("openvino", "onnxruntime"):
            raise LCRError(f"--backend for an exported folder: openvino or onnxruntime, not {backend!r}")
        info = artifact.read_metadata(model)
        precision = default_precision(info, backend)
        source = backend_probs(open_backend(model, backend, precision))
        desc, window = f"eval {precision}", paper_window(float(info["frame_rate"]))
    else:
        from lcr_edge.model.checkpoint import load_checkpoint

        net, info = load_checkpoint(model)
        source, desc, window = forward_probs(net), "eval", None  # the clips' rate
    ds = clips_for_model(data, split, info, frames)
    if Path(model).is_dir() and not quiet:
        tqdm.write(f"{model}: {precision} {backend}, every {ds.sampling.stride} frame(s)", file=sys.stderr)
    with tqdm(total=len(ds), desc=desc, leave=False, disable=quiet) as bar:
        return predict(source, make_loader(ds, batch, False, workers), window=window, progress=bar)


def save_report(res: EvalResult, model, split: str, out: Path | None = None) -> Path:
    """confusion.png and metrics.json into `out`, by default MODEL's folder/eval-SPLIT
    (runs/bundled-model/eval-SPLIT for the bundled model: never into the installed package)."""
    from lcr_edge.io import write_json
    from lcr_edge.paths import BUNDLED_MODEL

    if out is None:
        home = Path(model) if Path(model).is_dir() else Path(model).parent
        if home.resolve() == BUNDLED_MODEL.resolve():
            home = Path("runs") / "bundled-model"
        out = home / f"eval-{split}"
    out.mkdir(parents=True, exist_ok=True)
    m = res.metrics()
    plot_confusion(res.confusion(), res.labels, out / "confusion.png",
                   f"{Path(model).name} on {split}: top-1 {100 * m.get('top1_paper', 0):.1f} %")
    write_json(out / "metrics.json", m)
    return out


def plot_confusion(cm: np.ndarray, labels: list[str], path, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lcr_edge.io import atomic_path

    K = len(labels)
    rows = cm.sum(1, keepdims=True)
    norm = np.divide(cm, rows, out=np.zeros_like(cm, dtype=float), where=rows > 0)
    fig, ax = plt.subplots(figsize=(4 + 0.35 * K, 3 + 0.35 * K), dpi=100)
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(K), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(K), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(K):
        for j in range(K):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=6,
                        color="white" if norm[i, j] > 0.5 else "black")
    ax.set_title(title or "confusion (row-normalised colour, counts in cells)")
    fig.colorbar(im, ax=ax, fraction=0.03)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
