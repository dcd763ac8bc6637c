"""Clip-level evaluation: top-1 / top-5 / per-class accuracy and a confusion matrix.

Two clip scores: the paper's (for each class, the highest probability over the clip's last 0.83 s,
10 frames at Jester's 12 fps, `lcr_edge.scoring`; the clip's prediction is the best class by that)
and the last frame's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

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

    def confusion(self, how: str = "paper") -> np.ndarray:
        K = len(self.labels)
        cm = np.zeros((K, K), dtype=np.int64)
        np.add.at(cm, (self.targets, self.scores(how).argmax(1)), 1)
        return cm


@torch.no_grad()
def predict(model, loader, device="cpu", autocast_dtype=None, progress=None) -> EvalResult:
    """Run the model over every clip of `loader` (batches from training.data.collate)."""
    model.eval()
    probs, targets, keys, skipped = [], [], [], 0
    labels = loader.dataset.labels
    window = paper_window(loader.dataset.sampling.frame_rate)
    for batch in loader:
        skipped += len(batch.skipped)
        if not len(batch.labels):
            continue
        with torch.autocast(device_type=torch.device(device).type, dtype=autocast_dtype,
                            enabled=autocast_dtype is not None):
            logits = model(batch.frames.to(device), batch.edges.to(device))
        probs.append(torch.softmax(logits.float(), dim=-1).cpu().numpy())
        targets.append(batch.labels.numpy())
        keys += batch.keys
        if progress is not None:
            progress.update(len(batch.labels))
    if not probs:
        return EvalResult(labels, np.zeros((0, 1, len(labels))), np.zeros(0, np.int64), [], skipped,
                          window)
    return EvalResult(labels, np.concatenate(probs), np.concatenate(targets), keys, skipped, window)


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
