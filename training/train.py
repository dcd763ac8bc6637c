"""`lcr-edge train`: AdamW, warm-up then cosine, label smoothing, tube masking, gradient clipping,
bf16 autocast on CUDA, DistributedDataParallel under torchrun (gloo on CPU, nccl on CUDA), atomic
`last`/`best` checkpoints that `--resume` continues from, mid-epoch included; the steps run in the
one training loop (training.loop.fit), validation in training.evaluate.

Run layout (OUT): last.pt, best.pt, metrics.csv (one row an epoch), curves.png, config.toml.
"""

from __future__ import annotations

import csv
import io
import math
import os
import time
from dataclasses import asdict, astuple, dataclass, fields
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F

from lcr_edge.errors import LCRError
from lcr_edge.io import atomic_path, check_output_folder
from lcr_edge.labels import CLIP_FRAMES
from lcr_edge.model import create_model, tube_mask
from lcr_edge.model.checkpoint import read_checkpoint, save_checkpoint
from lcr_edge.preprocess import Preprocess
from lcr_edge.training.data import ClipDataset, epoch_order, make_loader
from lcr_edge.training.evaluate import forward_probs, predict
from lcr_edge.training.loop import Budget, LoopState, Schedule, Totals, clip_batch_loss, fit


@dataclass
class TrainConfig:
    data: str = ""
    mode: str = "clip"  # clip (a class a clip) | stream (per-frame targets over long streams)
    variant: str = "lcr-s"  # a name of lcr_edge.model.VARIANTS: its recipe gives the next four
    cell: str = ""  # "" = the variant's | bounded | paper (eq. 10 literally)
    head: str = ""  # "" = the variant's | max | mean | cls (eq. 12 literally); docs/training.md says why
    motion: str = ""  # "" = the variant's | diff (the model sees x_t - x_{t-1}) | none (eq. 1 literally)
    stem: str = ""  # "" = the variant's | conv (three small convolutions, docs/model.md) | patch (eq. 1)
    dim: int = 0  # override the variant's width (small experiments, tests); 0 = the variant's
    frames: int = CLIP_FRAMES  # F frames a clip (the paper's 32); stream mode: frames a chunk
    stride: int = 1  # frames apart in the source video (1 = every frame, as the paper)
    epochs: int = 30
    batch: int = 8  # clips per step, per process; stream mode: parallel streams (lanes)
    lr: float = 2e-3
    weight_decay: float = 0.05
    warmup: float = 1.0  # epochs of linear warm-up before the cosine
    label_smoothing: float = 0.1
    tube_mask: float = 0.0  # fraction of patches masked per clip (training only)
    jitter: float = 0.1  # random crop keeping 1 - jitter .. 1 of each side (training only)
    flip: float = 0.0  # probability of a horizontal flip that swaps mirrored labels (training only)
    grad_clip: float = 1.0
    loss_frames: int = 0  # the loss averages the last N frames' logits; 0 = frames // 2
    precision: str = "auto"  # auto (bf16 autocast on CUDA, fp32 on CPU) | fp32 | bf16
    compile: str = "auto"  # torch.compile each unit's recurrence: auto (on CPU) | on | off
    device: str = "auto"
    out: str = "runs/train"
    resume: bool = False
    init: str = ""  # start from these weights (a checkpoint .pt or an exported folder): a warm start
    seed: int = 0
    workers: int = 2
    threads: int = 0  # torch threads per process; 0 = torch's default
    max_minutes: float = 0.0  # stop (after a checkpoint) once this much time is spent; 0 = no limit
    checkpoint_minutes: float = 5.0  # also save `last` this often inside an epoch
    epoch_steps: int = 500  # stream mode: optimizer steps an epoch (streams have no natural end)
    reset_p: float = 0.5  # stream mode: chance a lane's next stream starts from a zero state
    background_weight: float = 0.5  # stream mode: loss weight of "No gesture" frames
    target_lead_s: float = 0.35  # stream mode: a gesture's label starts this long before its end
    target_after_s: float = 0.8  # ... and lasts this long after it (where its event should fire)
    val_streams: int = 12  # stream mode: validation streams scored after each epoch

    @classmethod
    def from_sources(cls, toml_path: str | None, cli: dict) -> TrainConfig:
        """Dataclass defaults < TOML file < flags given on the command line."""
        values = {}
        if toml_path:
            import tomllib

            try:
                values = tomllib.loads(Path(toml_path).read_text(encoding="utf-8-sig"))
            except FileNotFoundError:
                raise LCRError(f"{toml_path}: config file not found") from None
            except IsADirectoryError:
                raise LCRError(f"{toml_path}: is a folder; --config takes a .toml file") from None
            except (OSError, UnicodeDecodeError) as exc:
                raise LCRError(f"{toml_path}: cannot read the config file ({exc})") from None
            except tomllib.TOMLDecodeError as exc:
                raise LCRError(f"{toml_path}: not valid TOML ({exc})") from None
            known = {f.name for f in fields(cls)}
            bad = sorted(set(values) - known)
            if bad:
                raise LCRError(f"{toml_path}: unknown key(s) {bad}; valid: {', '.join(sorted(known))}")
        values.update({k: v for k, v in cli.items() if v is not None})
        where = toml_path or "training config"
        for f in fields(cls):  # every value of the type its default has (TOML gives any type)
            if f.name not in values:
                continue
            v, want = values[f.name], type(f.default)
            ok = isinstance(v, want) and not (want is not bool and isinstance(v, bool))
            if want is float and isinstance(v, int) and not isinstance(v, bool):
                values[f.name] = v = float(v)
                ok = True
            if not ok:
                raise LCRError(f"{where}: {f.name} must be {want.__name__.replace('str', 'text')}, "
                               f"got {v!r}")
            if want is float and not math.isfinite(v):
                raise LCRError(f"{where}: {f.name} must be a finite number, got {v}")
        try:
            cfg = cls(**values)
        except TypeError as exc:
            raise LCRError(f"bad training config: {exc}") from None
        if not cfg.data:
            raise LCRError("no data: give --data DIR (or data = ... in the config file)")
        if cfg.mode not in ("clip", "stream"):
            raise LCRError(f"mode must be clip or stream, got {cfg.mode!r}")
        for name in ("frames", "stride", "epochs", "batch", "epoch_steps", "val_streams"):
            if getattr(cfg, name) < 1:
                raise LCRError(f"{name} must be >= 1, got {getattr(cfg, name)}")
        for name in ("lr", "max_minutes", "checkpoint_minutes", "weight_decay", "warmup",
                     "label_smoothing", "grad_clip", "workers", "threads", "dim", "loss_frames"):
            if getattr(cfg, name) < 0:
                raise LCRError(f"{name} must be >= 0, got {getattr(cfg, name)}")
        if cfg.compile not in ("auto", "on", "off"):
            raise LCRError(f"compile must be auto, on or off, got {cfg.compile!r}")
        if cfg.precision not in ("auto", "fp32", "bf16"):
            raise LCRError(f"precision must be auto, fp32 or bf16, got {cfg.precision!r}")
        if not 0.0 <= cfg.jitter < 1.0:
            raise LCRError(f"jitter must be in [0, 1), got {cfg.jitter}")
        if not 0.0 <= cfg.reset_p <= 1.0:
            raise LCRError(f"reset_p must be in [0, 1], got {cfg.reset_p}")
        if not (0.0 <= cfg.target_lead_s <= 5.0 and 0.0 < cfg.target_after_s <= 5.0):
            raise LCRError(f"target_lead_s must be in [0, 5] and target_after_s in (0, 5] seconds, "
                           f"got {cfg.target_lead_s} and {cfg.target_after_s}")
        if not 0.0 <= cfg.flip <= 1.0:
            raise LCRError(f"flip must be in [0, 1], got {cfg.flip}")
        if not 0.0 <= cfg.tube_mask < 1.0:
            raise LCRError(f"tube_mask must be in [0, 1), got {cfg.tube_mask}")
        return cfg

    def to_toml(self) -> str:
        lines = []
        for k, v in asdict(self).items():
            lines.append(f"{k} = {str(v).lower() if isinstance(v, bool) else repr(v)}".replace("'", '"'))
        return "\n".join(lines) + "\n"


def setup_distributed(device: str) -> tuple[int, int, torch.device]:
    """(rank, world size, device) from torchrun's environment; a plain process is rank 0 of 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise LCRError("--device cuda, but no CUDA GPU is visible")
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device == "cuda" else "gloo")
    rank = dist.get_rank() if world > 1 else 0
    if device == "cuda":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        return rank, world, torch.device("cuda", local)
    return rank, world, torch.device("cpu")


def write_metrics(out: Path, history: list[dict], score: str = "val_top1") -> None:
    if not history:
        return
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(history[0]))
    writer.writeheader()
    writer.writerows(history)
    with atomic_path(out / "metrics.csv") as tmp:
        tmp.write_text(buf.getvalue())
    plot_curves(out / "curves.png", history, score)


def plot_curves(path: Path, history: list[dict], score: str = "val_top1") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = [h["epoch"] for h in history]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=100)
    a.plot(ep, [h["train_loss"] for h in history], "o-", label="train")
    if "val_loss" in history[0]:
        a.plot(ep, [h["val_loss"] for h in history], "o-", label="validation")
    a.set_xlabel("epoch")
    a.set_ylabel("loss")
    a.legend()
    b.plot(ep, [100 * h["train_acc"] for h in history], "o-", label="train")
    b.plot(ep, [100 * h[score] for h in history], "o-", label=SCORE_NAMES.get(score, score))
    b.set_xlabel("epoch")
    b.set_ylabel("accuracy %")
    b.set_ylim(0, 100)
    b.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


SCORE_NAMES = {"val_top1": "validation top-1 (paper score)",
               "val_event_accuracy": "validation event accuracy"}


class ClipData:
    """Clip training's data: a class a clip, every rank its share of each epoch's shuffled order."""

    unit, score = "clips", "val_top1"

    def __init__(self, cfg: TrainConfig, rank: int, world: int):
        self.cfg, self.rank, self.world = cfg, rank, world
        if (Path(cfg.data) / "streams.jsonl").is_file():
            raise LCRError(f"{cfg.data}: is a stream set; train on it with --mode stream")
        self.train = ClipDataset.from_dir(cfg.data, "train", cfg.frames, train=True, stride=cfg.stride,
                                          seed=cfg.seed, jitter=cfg.jitter, flip=cfg.flip)
        self.val = ClipDataset.from_dir(cfg.data, "validation", cfg.frames, train=False,
                                        stride=cfg.stride, labels=self.train.labels)
        self.labels, self.preprocess = self.train.labels, self.train.preprocess
        self.source_fps = self.train.sampling.source_fps
        self.per_rank = math.ceil(len(self.train) / world)
        self.steps_per_epoch = math.ceil(self.per_rank / cfg.batch)

    def describe(self) -> str:
        return f"{len(self.train)} train / {len(self.val)} validation clips"

    def epoch_batches(self, epoch: int, done: int):
        """This rank's batches of `epoch` after its first `done`: every rank the same number."""
        self.train.set_epoch(epoch)
        order = epoch_order(len(self.train), self.cfg.seed, epoch)
        order += order[: self.per_rank * self.world - len(order)]
        mine = order[self.rank::self.world]
        batches = [mine[i:i + self.cfg.batch] for i in range(0, len(mine), self.cfg.batch)]
        return make_loader(self.train, workers=self.cfg.workers, batches=batches[done:])

    def validate(self, model, device, autocast) -> tuple[dict, int]:
        res = predict(forward_probs(model, device, autocast),
                      make_loader(self.val, self.cfg.batch, False, self.cfg.workers))
        m = res.metrics()
        val_loss = F.cross_entropy(torch.log(torch.from_numpy(res.probs[:, -1]).clamp_min(1e-9)),
                                   torch.from_numpy(res.targets)).item() if len(res.targets) else 0.0
        return {"val_loss": round(val_loss, 5), "val_top1": round(m.get("top1_paper", 0.0), 5),
                "val_top5": round(m.get("top5_paper", 0.0), 5),
                "val_top1_last": round(m.get("top1_last", 0.0), 5)}, res.skipped

    @staticmethod
    def describe_val(m: dict) -> str:
        return (f"val top-1 {100 * m['val_top1']:.1f} % (last frame {100 * m['val_top1_last']:.1f} %) "
                f"top-5 {100 * m['val_top5']:.1f} %")


class StreamData:
    """Stream training's data (`lcr_edge.training.streams`): `batch` lanes of long streams in
    chunks of `frames` model frames, `epoch_steps` chunks an epoch; scored by event accuracy on
    the validation streams. A resumed epoch deals fresh chunks (the carried state is not saved)."""

    unit, score = "frames", "val_event_accuracy"

    def __init__(self, cfg: TrainConfig, rank: int):
        from lcr_edge.training.streams import read_streams

        self.cfg, self.rank = cfg, rank
        self.train, self.labels = read_streams(cfg.data, "train")
        self.val = read_streams(cfg.data, "validation")[0][: cfg.val_streams]
        self.preprocess = Preprocess()
        self.source_fps = self.train[0]["fps"]
        self.steps_per_epoch = cfg.epoch_steps

    def describe(self) -> str:
        return (f"{len(self.train)} train / {len(self.val)} validation streams, lanes of "
                f"{self.cfg.batch}")

    def epoch_batches(self, epoch: int, done: int):
        from torch.utils.data import DataLoader

        from lcr_edge.training.streams import StreamChunks, Targets

        cfg = self.cfg
        ds = StreamChunks(self.train, self.labels, lanes=cfg.batch, chunk=cfg.frames, stride=cfg.stride,
                          preprocess=self.preprocess, reset_p=cfg.reset_p, jitter=cfg.jitter,
                          targets=Targets(cfg.target_lead_s, cfg.target_after_s),
                          flip=cfg.flip, seed=[cfg.seed, self.rank, epoch, done],
                          batches=self.steps_per_epoch - done)
        return DataLoader(ds, batch_size=None, num_workers=min(1, cfg.workers))

    def validate(self, model, device, autocast) -> tuple[dict, int]:
        from lcr_edge.training.streams import Targets, score_streams

        cfg = self.cfg
        r = score_streams(model, self.val, self.labels, cfg.stride, self.preprocess, device,
                          autocast, targets=Targets(cfg.target_lead_s, cfg.target_after_s))
        lat = r["median_latency_s"]
        return {"val_event_accuracy": round(r["event_accuracy"], 5),
                "val_false_fires_per_idle_min": round(r["false_fires_per_idle_minute"], 4),
                "val_frame_acc": round(r["frame_accuracy"], 5),
                "val_median_latency_s": round(lat, 3) if lat is not None else -1.0}, 0

    @staticmethod
    def describe_val(m: dict) -> str:
        lat = m["val_median_latency_s"]
        return (f"val events {100 * m['val_event_accuracy']:.1f} %, "
                f"{m['val_false_fires_per_idle_min']:.2f} false fires/idle min, frames "
                f"{100 * m['val_frame_acc']:.1f} %" + (f", latency {lat:.2f} s" if lat >= 0 else ""))


def train(cfg: TrainConfig, log=print) -> dict:
    """Train; returns the last epoch's metrics (rank 0), {} on other ranks."""
    rank, world, device = setup_distributed(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    # a file or an unwritable place as --out fails now, not after the first epoch's work
    out = check_output_folder(cfg.out) if rank == 0 else Path(cfg.out)
    torch.manual_seed(cfg.seed)
    data = StreamData(cfg, rank) if cfg.mode == "stream" else ClipData(cfg, rank, world)
    labels = data.labels
    overrides = {k: getattr(cfg, k) for k in ("dim", "cell", "head", "motion", "stem") if getattr(cfg, k)}
    model = create_model(cfg.variant, num_classes=len(labels), **overrides).to(device)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "lr": cfg.lr, "weight_decay": cfg.weight_decay},
              {"params": no_decay, "lr": cfg.lr, "weight_decay": 0.0}]
    steps_per_epoch = data.steps_per_epoch
    warmup_steps = max(1, int(cfg.warmup * steps_per_epoch))
    resume, history, best = None, [], -1.0

    if cfg.resume:
        ckpt_path = out / "last.pt"
        ckpt = read_checkpoint(ckpt_path)
        if ckpt.get("labels") != labels or ckpt["config"].get("variant") != cfg.variant:
            raise LCRError(f"{ckpt_path}: was trained with other labels or another variant")
        missing = [k for k in ("optimizer", "epoch", "batch_in_epoch", "step", "history", "best", "rng")
                   if k not in ckpt]
        if missing:
            raise LCRError(f"{ckpt_path}: not a resumable training checkpoint (no {', '.join(missing)}); "
                           f"start a new run from its weights with --init instead")
        model.load_state_dict(ckpt["model"])
        sums = ckpt.get("epoch_sums")  # (loss, right, clips, skipped) of the epoch's first part
        resume = {"optimizer": ckpt["optimizer"], "epoch": ckpt["epoch"],
                  "batch": ckpt["batch_in_epoch"], "step": ckpt["step"],
                  "totals": Totals(*sums) if sums and ckpt["batch_in_epoch"] and rank == 0 else None}
        history, best = ckpt["history"], ckpt["best"]
        torch.set_rng_state(ckpt["rng"])
        if rank == 0:
            log(f"resuming {ckpt_path}: epoch {ckpt['epoch'] + 1}, batch {ckpt['batch_in_epoch']}, "
                f"step {ckpt['step']}")
    elif rank == 0 and (out / "last.pt").exists():
        raise LCRError(f"{out} already holds a run: pass --resume to continue it or --out elsewhere")
    if cfg.init and not cfg.resume:
        init = Path(cfg.init).expanduser()
        init_path = init / "checkpoint.pt" if init.is_dir() else init
        ckpt = read_checkpoint(init_path)
        if ckpt.get("labels") != labels:
            raise LCRError(f"{init_path}: its labels differ from {cfg.data}'s; --init needs the same "
                           f"classes in the same order (fine-tune other classes with `lcr-edge "
                           f"finetune`)")
        try:
            model.load_state_dict(ckpt["model"])
        except (RuntimeError, KeyError) as exc:
            raise LCRError(f"{init_path}: does not fit the model this run builds (variant, width, "
                           f"head, motion, stem must match): {str(exc)[:200]}") from None
        if rank == 0:
            log(f"starting from the weights of {init_path} (new optimizer and schedule)")

    compiled = cfg.compile == "on" or (cfg.compile == "auto" and device.type == "cpu")
    if compiled:
        # One graph per unit step, reused for every frame: inductor fuses Q-shift, the mixes and the
        # cell's elementwise ops (1.25x a step on the 2-core CPU, after about 40 s of compiling).
        # Not the default on CUDA, where Bi-WKV is our own kernel.
        for unit in model.units:
            unit.recur = torch.compile(unit.recur, dynamic=False)
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)
    use_bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and device.type == "cuda")
    autocast = torch.bfloat16 if use_bf16 else None
    if use_bf16 and device.type == "cpu" and rank == 0 and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        # measured: 13-15 s a step of 8 clips in bf16 against 1.3 s in fp32 on a 2-core AVX2 EPYC
        log(f"warning: this CPU ({torch.backends.cpu.get_cpu_capability()}) has no native bf16: "
            f"bf16 autocast is emulated and about 10x slower than fp32; use --precision fp32")
    sampling = {"frames": cfg.frames, "stride": cfg.stride, "source_fps": data.source_fps,
                "frame_rate": data.source_fps / cfg.stride, "mode": cfg.mode}
    t_start = time.perf_counter()
    metrics: dict = {}

    def save(name: str, state: LoopState, epoch: int, batch_in_epoch: int, extra_metrics=None,
             sums=None):
        if rank != 0:
            return
        save_checkpoint(out / name, model, labels, data.preprocess,
                        optimizer=state.optimizer.state_dict(), epoch=epoch,
                        batch_in_epoch=batch_in_epoch, step=state.step, history=history, best=best,
                        rng=torch.get_rng_state(), train_config=asdict(cfg), sampling=sampling,
                        metrics=extra_metrics or {}, epoch_sums=list(sums or [0, 0, 0, 0]))

    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        with atomic_path(out / "config.toml") as tmp:
            tmp.write_text(cfg.to_toml())
        how = ", compiled" if compiled else ""
        m = model.config
        log(f"{cfg.variant} ({model.num_params() / 1e6:.2f} M params, {m.cell} cell, {m.head} head, "
            f"motion {m.motion}, {m.stem} stem{how}) on {device} x {world}: {data.describe()}, "
            f"{len(labels)} classes, {cfg.frames} frames stride {cfg.stride} "
            f"({sampling['frame_rate']:.1f} fps)")

    def mask(step: int, clips: int):
        g = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
        return tube_mask(clips, model.config.grid ** 2, cfg.tube_mask, g).to(device)

    def checkpoint(state: LoopState):  # mid-epoch: the sums so far, for the resumed epoch's line
        save("last.pt", state, state.epoch, state.batch, sums=astuple(state.totals))

    def end_epoch(state: LoopState):
        nonlocal best, metrics
        epoch = state.epoch
        if state.cut_short:
            if rank == 0:
                log(f"time budget of {cfg.max_minutes} min reached mid-epoch {epoch + 1}; "
                    f"`--resume` continues")
            return
        t = state.totals
        stats = torch.tensor([t.loss, t.right, t.clips, t.skipped], dtype=torch.float64)
        if world > 1:
            dist.all_reduce(stats)
        val, val_skipped = data.validate(model, device, autocast)
        if stats[2].item() == 0 and cfg.mode == "clip":
            raise LCRError(f"{cfg.data}: no training clip of epoch {epoch + 1} could be read "
                           f"({int(stats[3].item())} unreadable, see the warnings above); nothing "
                           f"was saved")
        seen = max(1.0, stats[2].item())
        epoch_s = time.perf_counter() - state.epoch_start
        metrics = {"epoch": epoch + 1, "step": state.step, "train_loss": round(stats[0].item() / seen, 5),
                   "train_acc": round(stats[1].item() / seen, 5), **val,
                   "lr": state.lr, "epoch_s": round(epoch_s, 1),
                   f"{data.unit}_per_s": round(stats[2].item() / max(1e-9, epoch_s), 2),
                   "skipped": int(stats[3].item() + val_skipped)}
        history.append(metrics)
        if rank == 0:
            if metrics[data.score] > best:
                best = metrics[data.score]
                save("best.pt", state, epoch + 1, 0, metrics)
            save("last.pt", state, epoch + 1, 0, metrics)
            write_metrics(out, history, data.score)
            log(f"epoch {epoch + 1}/{cfg.epochs}: train loss {metrics['train_loss']:.3f} acc "
                f"{100 * metrics['train_acc']:.1f} % | {data.describe_val(metrics)} | "
                f"{metrics[data.unit + '_per_s']:.1f} {data.unit}/s, {metrics['epoch_s']:.0f} s"
                + (f" | {metrics['skipped']} unreadable clips skipped" if metrics["skipped"] else ""))

    if cfg.mode == "stream":
        from lcr_edge.training.streams import BACKGROUND, stream_batch_loss

        loss_fn = stream_batch_loss(net, model, labels.index(BACKGROUND), cfg.label_smoothing,
                                    cfg.background_weight, device, autocast)
    else:
        loss_fn = clip_batch_loss(net, cfg.loss_frames or max(1, cfg.frames // 2), cfg.label_smoothing,
                                  device, autocast, mask if cfg.tube_mask > 0 else None)
    state = fit(net, groups, data.epoch_batches, loss_fn,
                Schedule(warmup=warmup_steps, floor=0.01, steps=steps_per_epoch * cfg.epochs),
                Budget(epochs=cfg.epochs, seconds=60 * cfg.max_minutes or None), grad_clip=cfg.grad_clip,
                start=t_start, resume=resume, checkpoint_seconds=60 * cfg.checkpoint_minutes,
                on_checkpoint=checkpoint, on_epoch=end_epoch, bar="" if rank == 0 else None)
    if state.stopped == "time" and not state.cut_short and rank == 0:
        log(f"time budget of {cfg.max_minutes} min reached after epoch {state.epoch + 1}")
    if world > 1:
        dist.barrier()
    if rank == 0 and history:
        top = max(history, key=lambda h: h[data.score])
        log(f"best: {data.describe_val(top)} (epoch {top['epoch']}) -> {out / 'best.pt'}; "
            f"curves {out / 'curves.png'}\nnext: lcr-edge eval --model {out / 'best.pt'} "
            + ("--stream" if cfg.mode == "stream" else f"--data {cfg.data}")
            + f"\n      lcr-edge quantize {out / 'best.pt'} --data CLIPS --out exports/{out.name}"
            + ("" if cfg.mode == "stream" else f"  (CLIPS: {cfg.data})"))
    return metrics if rank == 0 else {}
