"""`lcr-edge demo`: the streaming pipeline end to end on a generated clip, with honest labels.

Frames (BGR uint8) -> lcr_edge.preprocess (resize, normalise, Otsu-Canny edges) -> model.step rolled
over them (lcr_edge.model.lcr.rollout: the state carried from frame to frame) -> per-frame top class
and timings. With no checkpoint the
weights are random and the predicted classes mean nothing; the point is the pipeline and its speed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import typer


def moving_disc_clip(frames: int = 24, size=(176, 100), seed: int = 0) -> list[np.ndarray]:
    """A bright disc crossing a noisy background from right to left (a 'swipe left')."""
    rng = np.random.default_rng(seed)
    import cv2

    w, h = size
    base = cv2.GaussianBlur(rng.integers(0, 120, (h, w, 3), dtype=np.uint8), (9, 9), 3)
    out = []
    for t in range(frames):
        img = base.copy()
        cx = int(w * (0.8 - 0.6 * t / max(frames - 1, 1)))
        cv2.circle(img, (cx, h // 2), h // 4, (170, 190, 230), -1)
        out.append(img)
    return out


def register(app: typer.Typer) -> None:
    @app.command("demo", hidden=True)
    def demo_moved() -> None:
        """Moved: see selftest and run --source demo."""
        from lcr_edge.errors import LCRError

        raise LCRError("`lcr-edge demo` is now `lcr-edge selftest` (a random-weight model on a "
                       "generated clip: timings only); to watch the bundled model recognise the "
                       "demo clip, run `lcr-edge run --source demo`")

    @app.command("selftest")
    def selftest(
        model: Path = typer.Option(None, "--model", help="Checkpoint (.pt); default: random LCR-S."),
        frames: int = typer.Option(24, min=1, help="Frames in the generated clip."),
        as_json: bool = typer.Option(False, "--json", help="One JSON line per frame."),
    ):
        """Check the PyTorch pipeline: stream a generated clip through preprocessing, edges and a
        model (random weights unless --model), frame by frame, and time each stage. Not the demo:
        `lcr-edge run --source demo` shows the bundled model on the bundled clip."""
        import torch

        from lcr_edge.labels import JESTER_LABELS
        from lcr_edge.model import create_model
        from lcr_edge.model.checkpoint import load_checkpoint
        from lcr_edge.model.lcr import rollout
        from lcr_edge.preprocess import Preprocess

        torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
        if model is None:
            torch.manual_seed(0)
            net, labels, pre = create_model("lcr-s").eval(), list(JESTER_LABELS), Preprocess()
            typer.echo("random-weight LCR-S: predictions are meaningless, timings are real", err=True)
        else:
            net, ckpt = load_checkpoint(model)
            labels, pre = ckpt["labels"], Preprocess.from_dict(ckpt["preprocess"])
        xs, es, pre_s, model_s = [], [], [], []
        for frame in moving_disc_clip(frames):
            t0 = time.perf_counter()
            x, e = pre(frame)
            pre_s.append(time.perf_counter() - t0)
            xs.append(x)
            es.append(e)

        def timed_step(frame, edge, state):
            t0 = time.perf_counter()
            out = net.step(frame, edge, state)
            model_s.append(time.perf_counter() - t0)
            return out

        with torch.no_grad():  # the frames one by one, the state carried
            logits, _ = rollout(timed_step, torch.from_numpy(np.stack(xs))[None],
                                torch.from_numpy(np.stack(es))[None], net.initial_state(1))
        probs = torch.softmax(logits[0], -1)
        for i, (prob, e) in enumerate(zip(probs, es, strict=True)):
            top = int(prob.argmax())
            row = {"frame": i, "top": labels[top], "p": round(float(prob[top]), 4),
                   "edge_pixels": int(e.sum()), "preprocess_ms": round(pre_s[i] * 1e3, 2),
                   "model_ms": round(model_s[i] * 1e3, 2)}
            typer.echo(json.dumps(row) if as_json else
                       f"frame {i:3d}  {row['top']:<32} p={row['p']:.3f}  edges={row['edge_pixels']:5d}"
                       f"  pre {row['preprocess_ms']:5.2f} ms  model {row['model_ms']:6.2f} ms")
        pre_ms, model_ms = (np.median(s[1:] or s) * 1e3 for s in (pre_s, model_s))  # first: warm-up
        if not as_json:
            typer.echo(f"median per frame: preprocess+edges {pre_ms:.2f} ms, model step {model_ms:.2f} ms "
                       f"(PyTorch FP32 eager; exported INT8 models are faster: see `lcr-edge bench`)")
