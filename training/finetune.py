"""`lcr-edge finetune`: adapt a trained model to a user's own clips on the CPU, within a time budget.

    base checkpoint (or an exported folder's checkpoint.pt; by default the bundled model's)
        +   a recorded set (Jester layout)
    -> labels: the base classes the set contains (base order), then the set's new names
    -> head rows copied from the base where names match; new rows start small
    -> hold out part of every class; train `head`, `last` (last unit + head) or `all` (a small
       rate for the body, a larger one for the head) until the budget is spent, learning rate
       on a cosine over the *time* budget, so a slow or busy machine still ends annealed
    -> held-out accuracy before and after -> a `Finetuned` model, which `lcr-edge finetune`
       quantizes and exports (quantize.pipeline.finetune_and_export) or saves as finetuned.pt

The clip sampling (frames per clip, stride) is the base checkpoint's: the recurrence was trained
at that frame rate and the app feeds frames at it.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from lcr_edge.errors import LCRError
from lcr_edge.labels import CLIP_FRAMES, JESTER_FPS
from lcr_edge.model import LCR
from lcr_edge.model.checkpoint import load_checkpoint, save_checkpoint
from lcr_edge.model.lcr import LCRConfig
from lcr_edge.preprocess import Preprocess
from lcr_edge.recording import set_warnings
from lcr_edge.training.data import Clip, ClipDataset, Sampling, epoch_order, jester_clips, make_loader
from lcr_edge.training.evaluate import forward_probs, predict
from lcr_edge.training.loop import Budget, LoopState, Schedule, clip_batch_loss, fit

STRATEGIES = ("head", "last", "all")
# (body, head) learning rates per strategy: a pretrained body moves little, a new head a lot.
DEFAULT_LR = {"head": (0.0, 5e-3), "last": (1e-3, 5e-3), "all": (5e-4, 5e-3)}


@dataclass
class FinetuneConfig:
    model: str = ""  # base checkpoint (.pt) or exported folder (its checkpoint.pt); "": default
    data: str = ""
    out: str = ""
    minutes: float = 5.0  # training budget (held-out evaluation included; export comes after)
    train: str = "all"  # head | last | all
    lr: float = 0.0  # head learning rate; 0 = the strategy's default (body scaled alike)
    holdout: float = 0.2  # fraction of each class's clips held out (at least 1 with >= 3 clips)
    batch: int = 8
    epochs: int = 0  # at most this many passes; 0 = as many as the budget allows
    frames: int = 0  # frames per clip; 0 = the base checkpoint's sampling
    stride: int = 0
    precision: str = "bf16"  # bf16 autocast (1.6x faster on this CPU) | fp32
    seed: int = 0
    threads: int = 0
    export: bool = True  # quantize + export an artifact into `out`
    qat_steps: int = 0  # quantization-aware steps after PTQ (0: PTQ only)
    calibration: int = 128


@dataclass
class Split:
    labels: list[str]
    train: list[Clip]
    held: list[Clip]
    new_labels: list[str]  # names the base did not know
    base_rows: dict[str, int] = field(default_factory=dict)  # label -> base head row


def resolve_base(spec: str | None) -> Path:
    """A .pt, an exported folder (its checkpoint.pt); without one, $LCR_EDGE_MODEL's, else the
    bundled default model's checkpoint.pt."""
    from lcr_edge import paths
    from lcr_edge.artifact import CHECKPOINT

    spec = spec or os.environ.get("LCR_EDGE_MODEL")
    if not spec:
        bundled = paths.default_model_dir()  # without $LCR_EDGE_MODEL: the bundled model
        if bundled is None:
            raise LCRError("no base model: this install has no bundled model; give --model (a "
                           "checkpoint .pt or an exported folder with checkpoint.pt) or set "
                           "LCR_EDGE_MODEL")
        if not (bundled / CHECKPOINT).is_file():
            raise LCRError(f"the bundled model ({bundled}) has no {CHECKPOINT} (its FP32 "
                           f"checkpoint) to fine-tune from; give --model: a checkpoint .pt or "
                           f"an exported folder that has {CHECKPOINT} (`lcr-edge export` and "
                           f"`lcr-edge quantize` write one)")
        return bundled / CHECKPOINT
    p = Path(spec).expanduser()
    if p.is_dir():
        if not (p / CHECKPOINT).is_file():
            raise LCRError(f"{p}: an exported folder without {CHECKPOINT}; give the .pt file")
        return p / CHECKPOINT
    if not p.is_file():
        raise LCRError(f"{p}: no such checkpoint or model folder")
    return p


def split_clips(data: Path, base_labels: list[str], holdout: float, seed: int) -> Split:
    """Every clip of the set (train and validation CSVs) -> new label order, train / held out."""
    clips, found = jester_clips(data, "train")
    if (data / "jester-v1-validation.csv").is_file():
        clips += jester_clips(data, "validation")[0]
    if not clips:
        raise LCRError(f"{data}: no clips; record some with `lcr-edge record --out {data} ...`")
    present = {found[c.label] for c in clips}
    labels = [lb for lb in base_labels if lb in present]
    new = [lb for lb in found if lb in present and lb not in base_labels]
    labels += new
    if len(labels) < 2:
        raise LCRError(f"{data}: clips of {len(labels)} gesture(s); record at least two gestures")
    index = {lb: i for i, lb in enumerate(labels)}
    rng = np.random.default_rng(seed)
    train, held = [], []
    for lb in labels:
        mine = [Clip(c.key, index[lb], c.frames_dir) for c in clips if found[c.label] == lb]
        order = rng.permutation(len(mine))
        n_held = 0 if len(mine) < 3 else max(1, round(holdout * len(mine))) if holdout > 0 else 0
        n_held = min(n_held, len(mine) - 1)  # every gesture keeps at least one clip to train on
        held += [mine[i] for i in order[:n_held]]
        train += [mine[i] for i in order[n_held:]]
    rows = {lb: base_labels.index(lb) for lb in labels if lb in base_labels}
    return Split(labels, train, held, new, rows)


def adapt_model(base: LCR, split: Split, seed: int) -> LCR:
    """The base with a head over split.labels: rows copied where names match, new rows small."""
    cfg = LCRConfig(**{**base.config.to_dict(), "num_classes": len(split.labels)})
    torch.manual_seed(seed)
    model = LCR(cfg)
    state = {k: v for k, v in base.state_dict().items() if not k.startswith("head.")}
    model.load_state_dict(state, strict=False)
    with torch.no_grad():
        old_w, old_b = base.head.weight, base.head.bias
        for i, lb in enumerate(split.labels):
            if lb in split.base_rows:
                model.head.weight[i] = old_w[split.base_rows[lb]]
                model.head.bias[i] = old_b[split.base_rows[lb]]
            else:  # a new gesture: small random weights, the average bias
                model.head.weight[i].normal_(0.0, 0.02)
                model.head.bias[i] = old_b.mean()
    return model


def param_groups(model: LCR, strategy: str, lr_head: float, lr_body: float) -> list[dict]:
    """Freeze what the strategy leaves alone; -> optimizer groups (head, body)."""
    if strategy not in STRATEGIES:
        raise LCRError(f"--train must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    head = list(model.head.parameters()) + list(model.head_norm.parameters())
    if strategy == "head":
        body = []
    elif strategy == "last":
        body = list(model.units[-1].parameters())
    else:
        ids = {id(p) for p in head}
        body = [p for p in model.parameters() if id(p) not in ids]
    for p in model.parameters():
        p.requires_grad_(False)
    for p in head + body:
        p.requires_grad_(True)
    groups = [{"params": head, "lr": lr_head, "weight_decay": 0.01}]
    if body:
        groups.append({"params": body, "lr": lr_body, "weight_decay": 0.01})
    return groups


@dataclass
class Finetuned:
    """A fine-tuned model with what its checkpoint and export need, and the report."""

    model: LCR
    split: Split
    preprocess: Preprocess
    sampling: Sampling
    report: dict  # what OUT/finetune.json records

    def checkpoint_extra(self) -> dict:
        r = self.report
        return {"sampling": r["sampling"], "frame_rate": self.sampling.frame_rate,
                "finetune": {k: r[k] for k in ("base", "labels", "new_labels", "steps", "held_out_after",
                                               "train_seconds")}}

    def save(self, path: Path) -> None:
        save_checkpoint(path, self.model, self.split.labels, self.preprocess, **self.checkpoint_extra())

    def clips(self, held: bool) -> ClipDataset | None:
        """The training (held=False) or held-out clips, as validation sees them (no augmentation)."""
        clips = self.split.held if held else self.split.train
        return ClipDataset(clips, self.split.labels, self.sampling, preprocess=self.preprocess) \
            if clips else None


def finetune(cfg: FinetuneConfig, log=print, progress=None) -> Finetuned:
    """Fine-tune within the time budget (training.loop.fit), held-out accuracy before and after.
    progress(state) is called after every step (a training.loop.LoopState)."""
    t_start = time.perf_counter()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if cfg.precision not in ("bf16", "fp32"):
        raise LCRError(f"--precision must be bf16 or fp32, got {cfg.precision!r}")
    if not (cfg.minutes > 0 and math.isfinite(cfg.minutes)):
        raise LCRError(f"--minutes must be positive, got {cfg.minutes}")
    if not 0.0 <= cfg.holdout < 1.0:
        raise LCRError(f"--holdout is the share of each gesture's clips kept out of training: "
                       f"in [0, 1), got {cfg.holdout}")
    data = Path(cfg.data).expanduser()
    if not (data / "jester-v1-labels.csv").is_file():
        raise LCRError(f"{data}: not a gesture set (no jester-v1-labels.csv); record one with "
                       f"`lcr-edge record --out {data} --label NAME`")
    base_path = resolve_base(cfg.model)
    base, ckpt = load_checkpoint(base_path)
    samp = ckpt.get("sampling") or {}
    sampling = Sampling(cfg.frames or samp.get("frames", CLIP_FRAMES), cfg.stride or samp.get("stride", 1),
                        JESTER_FPS)
    pre = Preprocess.from_dict(ckpt["preprocess"]) if "preprocess" in ckpt else Preprocess()
    split = split_clips(data, list(ckpt["labels"]), cfg.holdout, cfg.seed)
    model = adapt_model(base, split, cfg.seed)
    lr_body, lr_head = DEFAULT_LR.get(cfg.train, (0.0, 0.0))
    if cfg.lr:
        lr_body, lr_head = lr_body * cfg.lr / lr_head, cfg.lr
    groups = param_groups(model, cfg.train, lr_head, lr_body)
    trainable = sum(p.numel() for g in groups for p in g["params"])
    train_set = ClipDataset(split.train, split.labels, sampling, train=True, preprocess=pre,
                            seed=cfg.seed)
    held_set = ClipDataset(split.held, split.labels, sampling, train=False, preprocess=pre) \
        if split.held else None
    autocast = torch.bfloat16 if cfg.precision == "bf16" else None
    default = "" if cfg.model or os.environ.get("LCR_EDGE_MODEL") else "the bundled model, "
    log(f"base {base_path} ({default}{base.config.variant}, {len(ckpt['labels'])} classes); "
        f"{len(split.train)} training / {len(split.held)} held-out clips of {len(split.labels)} "
        f"gestures ({len(split.new_labels)} new: {', '.join(split.new_labels) or '-'}); "
        f"training {cfg.train} ({trainable / 1e3:.0f} k of {model.num_params() / 1e3:.0f} k "
        f"params), {sampling.frames} frames stride {sampling.stride}, {cfg.minutes:g} min")
    clips = {lb: sum(c.label == i for c in split.train + split.held)
             for i, lb in enumerate(split.labels)}
    for warning in set_warnings(clips):
        log(f"warning: {warning}")

    def held_out() -> dict:
        if held_set is None:
            return {}
        loader = make_loader(held_set, batch_size=8, workers=0)
        return predict(forward_probs(model, autocast=autocast), loader).report()

    def epoch_batches(epoch: int, done: int):
        train_set.set_epoch(epoch)
        order = epoch_order(len(train_set), cfg.seed, epoch)
        return make_loader(train_set, workers=0,
                           batches=[order[i:i + cfg.batch] for i in range(0, len(order), cfg.batch)])

    def end_epoch(state: LoopState):
        t = state.totals
        if t.clips:
            history.append({"epoch": state.epoch + 1, "steps": state.step,
                            "loss": round(t.loss / t.clips, 4), "train_acc": round(t.right / t.clips, 4),
                            "seconds": round(time.perf_counter() - t_train, 1)})

    before = held_out()
    history, t_train = [], time.perf_counter()
    # a cosine over the time budget (or the epochs, where they end first), a short warm-up; a
    # step starts only if it should end inside the budget, less the held-out pass after it
    budget = Budget(epochs=cfg.epochs or None, seconds=60.0 * cfg.minutes,
                    reserve=_eval_seconds(held_set, sampling), finish_inside=True)
    state = fit(model, groups, epoch_batches,
                clip_batch_loss(model, max(1, sampling.frames // 2), 0.1, "cpu", autocast),
                Schedule(warmup=3, floor=0.02), budget, start=t_start, on_epoch=end_epoch,
                on_step=progress, bar="fine-tuning")
    model.eval()
    after = held_out()
    train_s = time.perf_counter() - t_start
    if after.get("clips"):
        held_text = (f"held-out top-1 {before.get('top1', 0.0):.1f} % before -> "
                     f"{after['top1']:.1f} % after ({after['clips']} clips)")
    else:
        held_text = ("no held-out clips, so no accuracy to report (a gesture needs 3 or more clips "
                     "for one to be held out)")
    log(f"trained {state.step} steps ({len(history)} epochs) in {train_s:.0f} s; {held_text}")

    report = {"config": asdict(cfg), "base": str(base_path), "labels": split.labels,
              "new_labels": split.new_labels, "rows_from_base": split.base_rows,
              "train_clips": [c.key for c in split.train], "held_out_clips": [c.key for c in split.held],
              "trainable_params": trainable, "params": model.num_params(), "steps": state.step,
              "history": history, "held_out_before": before, "held_out_after": after,
              "train_seconds": round(train_s, 1),
              "sampling": {"frames": sampling.frames, "stride": sampling.stride,
                           "source_fps": sampling.source_fps, "frame_rate": sampling.frame_rate}}
    return Finetuned(model, split, pre, sampling, report)


def _eval_seconds(held: ClipDataset | None, sampling: Sampling) -> float:
    """A rough allowance for the held-out pass: ~0.02 s a frame on this 2-core CPU, plus a bit."""
    return 2.0 + (0.02 * sampling.frames * len(held) if held is not None else 0.0)
