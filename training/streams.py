"""Training for streams: long recordings with per-frame targets, cut into chunks for truncated
backpropagation through time with the recurrent state carried from chunk to chunk.

The runtime keeps one state for ever, so the model must learn what clip training never teaches:
to forget a gesture once it is over, to stay quiet through long idle stretches, and to answer the
same whatever came minutes before. A stream set on disk (written by `write_streams`):

    OUT/streams.jsonl   one stream a line: {"id", "video", "frames", "fps", "split",
                        "events": [[label, start, end], ...]}  (source frames, end exclusive)
    OUT/labels.txt      the classes, one a line (Jester's 27)
    OUT/<id>.mp4        the frames

Per-frame targets (`frame_targets`): a gesture's label from `lead_s` before its end until
`after_s` past it (the window in which the event should fire), "No gesture" wherever nothing
happens, and no target (ignored) during the rest of the gesture, where the model may or may not
know yet. `StreamChunks` deals the streams out to `lanes` parallel lanes; each batch is the next
`chunk` model frames of every lane, so lane b of batch i+1 continues lane b of batch i. A lane
that runs out starts its next stream at a random offset (burn-in) and, with probability
1 - `reset_p`, keeps the state of the stream before (a warm start: the model has to forget it).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import IterableDataset

from lcr_edge.errors import LCRError
from lcr_edge.labels import mirror_index
from lcr_edge.preprocess import Preprocess

IGNORE = -100  # the target of a frame that no loss is taken on
BACKGROUND = "No gesture"
INDEX = "streams.jsonl"


@dataclass(frozen=True)
class Targets:
    """Where the per-frame targets put a gesture's label (seconds, relative to its end)."""

    lead_s: float = 0.35  # before the end: the latency budget starts while the hand still moves
    after_s: float = 0.8  # after the end: the window in which its one event should fire


def frame_targets(events, n_frames: int, labels: list[str], fps: float,
                  targets: Targets = Targets()) -> np.ndarray:
    """(label, start, end) events over n_frames source frames -> (n_frames,) int64 class indices.

    >>> from lcr_edge.labels import JESTER_LABELS as L
    >>> t = frame_targets([("Thumb Up", 4, 10)], 16, L, fps=4, targets=Targets(0.5, 1.0))
    >>> [L[i][:5] if i >= 0 else "-" for i in t]  # doctest: +NORMALIZE_WHITESPACE
    ['No ge', 'No ge', 'No ge', 'No ge', '-', '-', '-', '-', 'Thumb', 'Thumb', 'Thumb', 'Thumb',
     'Thumb', 'Thumb', 'No ge', 'No ge']
    """
    if BACKGROUND not in labels:
        raise LCRError(f"stream training needs a {BACKGROUND!r} class for the frames between "
                       f"gestures; the model's classes are {labels}")
    index = {lb: i for i, lb in enumerate(labels)}
    out = np.full(n_frames, index[BACKGROUND], np.int64)
    lead, after = round(targets.lead_s * fps), round(targets.after_s * fps)
    for label, start, end in events:
        if label not in index:
            raise LCRError(f"stream event {label!r} is not one of the model's classes")
        out[start:end] = IGNORE
        out[max(start, end - lead):min(n_frames, end + after)] = index[label]
    return out


def read_streams(root: str | os.PathLike, split: str = "train") -> tuple[list[dict], list[str]]:
    """The streams of one split and the class list of a stream set."""
    root = Path(root)
    index, labels_file = root / INDEX, root / "labels.txt"
    if not index.is_file() or not labels_file.is_file():
        raise LCRError(f"{root}: not a stream set (needs {INDEX} and labels.txt; "
                       f"`lcr-edge synth OUT --streams N` writes one)")
    labels = [ln.strip() for ln in labels_file.read_text(encoding="utf-8").splitlines() if ln.strip()]
    streams = []
    for n, line in enumerate(index.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            s = json.loads(line)
            s["video"], s["frames"], s["fps"] = str(root / s["video"]), int(s["frames"]), float(s["fps"])
            s["events"] = [(str(lb), int(a), int(b)) for lb, a, b in s["events"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise LCRError(f"{index}:{n}: malformed stream line ({exc})") from None
        if s.get("split", "train") == split:
            streams.append(s)
    if not streams:
        raise LCRError(f"{root}: no streams in split {split!r}")
    return streams, labels


class StreamChunks(IterableDataset):
    """Batches {"frames" (B,K,3,S,S), "edges" (B,K,1,S,S), "targets" (B,K), "reset" (B,)} of
    `lanes` = B parallel streams, K = `chunk` model frames each, every `stride`-th source frame.

    reset[b] is True when lane b starts a stream from a zero state (and at the very start).
    Randomness is a function of `seed`: the same seed deals the same batches. Iterate with a
    DataLoader of at most one worker (batch_size=None) so batches stay in order."""

    def __init__(self, streams: list[dict], labels: list[str], lanes: int = 8, chunk: int = 8,
                 stride: int = 4, preprocess: Preprocess = Preprocess(), targets: Targets = Targets(),
                 reset_p: float = 0.5, jitter: float = 0.1, flip: float = 0.5, seed: int = 0,
                 batches: int | None = None):
        if lanes < 1 or chunk < 1 or stride < 1:
            raise LCRError(f"lanes, chunk and stride must be at least 1, got {lanes}, {chunk}, {stride}")
        if not 0.0 <= reset_p <= 1.0 or not 0.0 <= flip <= 1.0:
            raise LCRError("reset_p and flip are probabilities in [0, 1]")
        self.streams, self.labels = streams, list(labels)
        self.lanes, self.chunk, self.stride = lanes, chunk, stride
        self.preprocess, self.targets, self.reset_p = preprocess, targets, reset_p
        self.jitter, self.flip, self.seed, self.batches = jitter, flip, seed, batches
        self.mirror = mirror_index(self.labels)

    def __len__(self) -> int:
        if self.batches is None:
            raise TypeError("an endless StreamChunks (batches=None) has no length")
        return self.batches

    def __iter__(self):
        rng = np.random.default_rng(self.seed)
        lanes = [_Lane() for _ in range(self.lanes)]
        k = 0
        while self.batches is None or k < self.batches:
            xs, es, ts, resets = [], [], [], []
            for lane in lanes:
                reset = False
                if lane.left() < self.chunk:
                    reset = lane.frames is None or bool(rng.random() < self.reset_p)
                    self._start(lane, rng, carried=not reset)
                x, e, t = lane.take(self.chunk)
                xs.append(x)
                es.append(e)
                ts.append(t)
                resets.append(reset)
            yield {"frames": torch.from_numpy(np.stack(xs)), "edges": torch.from_numpy(np.stack(es)),
                   "targets": torch.from_numpy(np.stack(ts)), "reset": torch.tensor(resets)}
            k += 1

    def _start(self, lane: _Lane, rng: np.random.Generator, carried: bool) -> None:
        """Load a random stream into the lane: decode, crop and flip it, at a random offset."""
        from lcr_edge.training.data import crop_box, decode_video

        s = self.streams[int(rng.integers(len(self.streams)))]
        frames = decode_video(Path(s["video"]))
        tgt = frame_targets(s["events"], len(frames), self.labels, s["fps"], self.targets)
        offset = int(rng.integers(0, self.chunk * self.stride))  # burn-in: chunks start anywhere
        keep = np.arange(offset, len(frames), self.stride)
        if len(keep) < self.chunk:
            keep = np.resize(keep, self.chunk)  # a stream shorter than a chunk loops
        crop = crop_box(frames[0].shape, self.jitter, rng)
        flip = bool(rng.random() < self.flip)
        t = tgt[keep]
        if flip:  # a mirrored stream: left and right swap (classes without a mirror are kept)
            t = np.array([self.mirror[i] if i >= 0 and self.mirror[i] >= 0 else i for i in t])
        if carried:
            t[0] = IGNORE  # the cut from the last stream: no frame difference to learn from
        lane.load([frames[i] for i in keep], t, crop, flip, self.preprocess)


class _Lane:
    """One lane's current stream: sampled frames, their targets, and a read position."""

    def __init__(self):
        self.frames: list[np.ndarray] | None = None
        self.pos = 0

    def left(self) -> int:
        return 0 if self.frames is None else len(self.frames) - self.pos

    def load(self, frames, targets, crop, flip, preprocess) -> None:
        self.frames, self.tgt, self.crop, self.flip, self.pre, self.pos = \
            frames, targets, crop, flip, preprocess, 0

    def take(self, n: int):
        import cv2

        xs, es = [], []
        for img in self.frames[self.pos:self.pos + n]:
            if self.crop is not None:
                y0, y1, x0, x1 = self.crop
                img = img[y0:y1, x0:x1]
            x, e = self.pre(cv2.flip(img, 1) if self.flip else img)
            xs.append(x)
            es.append(e)
        t = self.tgt[self.pos:self.pos + n]
        self.pos += n
        return np.stack(xs), np.stack(es), t


def stream_batch_loss(net, model, background: int, smoothing: float = 0.1,
                      background_weight: float = 0.5, device="cpu", autocast=None):
    """The loss of `lcr-edge train --mode stream` for `training.loop.fit`: each chunk continues
    the state the last chunk of its lane left (detached: truncated backpropagation through time),
    zeroed where the batch says `reset`; label-smoothed cross-entropy over the frames that have a
    target, frames of class `background` ("No gesture") weighted `background_weight` (they are
    most of every stream). `net` runs the chunk (the model, or its DDP wrapper)."""
    from lcr_edge.training.loop import BatchLoss

    device = torch.device(device)
    carried: dict = {"state": None}
    weight = torch.ones(model.config.num_classes, device=device)
    weight[background] = background_weight

    def loss_fn(batch, step: int) -> BatchLoss:
        frames, edges = batch["frames"].to(device), batch["edges"].to(device)
        targets, reset = batch["targets"].to(device), batch["reset"].to(device)
        state = carried["state"]
        if state is None or state.shape[2] != len(frames):
            state = model.initial_state(len(frames), device)
        state = state.clone()
        state[:, :, reset] = 0  # a lane that starts over: a fresh state, as the runtime's reset()
        with torch.autocast(device_type=device.type, dtype=autocast, enabled=autocast is not None):
            logits, new_state = net(frames, edges, state=state, return_state=True)
        carried["state"] = new_state.detach().float()
        flat, tgt = logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1)
        counted = tgt != IGNORE
        if not counted.any():  # a chunk without targets still carries its state on
            return BatchLoss(flat.sum() * 0.0, 0, 0)
        loss = F.cross_entropy(flat, tgt, weight=weight, ignore_index=IGNORE,
                               label_smoothing=smoothing)
        right = ((flat.argmax(-1) == tgt) & counted).sum()
        return BatchLoss(loss, int(counted.sum()), right)

    return loss_fn


@torch.no_grad()
def score_streams(model, streams: list[dict], labels: list[str], stride: int,
                  preprocess: Preprocess = Preprocess(), device="cpu", autocast=None,
                  events=None, chunk: int = 64, targets: Targets = Targets()) -> dict:
    """Validation of stream training: every stream from one fresh state to its end, frame by frame
    at the model's rate (in chunks of `chunk` frames, the state carried), through the event rules
    as the app runs them -> event accuracy, false fires per idle minute, latency, frame accuracy."""
    from lcr_edge.events import EventConfig, fire_events
    from lcr_edge.training.data import decode_video
    from lcr_edge.training.stream_eval import score_stream, summarize

    device = torch.device(device)
    was_training = model.training
    model.eval()
    results, right, counted = [], 0, 0
    for s in streams:
        frames = decode_video(Path(s["video"]))
        idx = np.arange(0, len(frames), stride)
        tgt = frame_targets(s["events"], len(frames), labels, s["fps"], targets)[idx]
        state, probs = model.initial_state(1, device), []
        for a in range(0, len(idx), chunk):
            part = list(idx[a:a + chunk])
            n = len(part)
            part += part[-1:] * (chunk - n)  # one shape for every chunk (a compiled model reuses it)
            xe = [preprocess(frames[i]) for i in part]
            x = torch.from_numpy(np.stack([p[0] for p in xe]))[None].to(device)
            e = torch.from_numpy(np.stack([p[1] for p in xe]))[None].to(device)
            with torch.autocast(device_type=device.type, dtype=autocast, enabled=autocast is not None):
                logits, state = model(x, e, state=state, return_state=True)
            state = state.float()  # (after a padded last chunk it is not used again)
            probs.append(torch.softmax(logits[0, :n].float(), -1).cpu().numpy())
        probs = np.concatenate(probs)
        ok = tgt != IGNORE
        right += int((probs.argmax(-1)[ok] == tgt[ok]).sum())
        counted += int(ok.sum())
        fired = fire_events(labels, probs, events or EventConfig(), s["fps"] / stride)
        results.append(score_stream(s["events"], fired, idx, len(frames), source_fps=s["fps"]))
    model.train(was_training)
    return {**summarize(results), "frame_accuracy": right / max(1, counted), "streams": len(results)}
