"""`lcr-edge train` and `lcr-edge eval` (clip-level)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from lcr_edge.labels import CLIP_FRAMES


def register(app: typer.Typer) -> None:
    @app.command()
    def train(
        data: Path = typer.Option(None, "--data", help="Dataset folder: Jester layout or <label>/*.mp4."),
        variant: str = typer.Option(None, help="lcr-s | lcr | lcr-l (default lcr-s), or lcr-s-paper | "
                                    "lcr-paper | lcr-l-paper: the paper's recipe as written."),
        cell: str = typer.Option(None, help="bounded | paper (eq. 10 literally) [default: the variant's]."),
        head: str = typer.Option(None, help="max | mean | cls (eq. 12 literally) [default: the variant's]."),
        motion: str = typer.Option(None, help="diff (x_t - x_t-1) | none (eq. 1) [default: the variant's]."),
        stem: str = typer.Option(None, help="conv (ConvStem) | patch (eq. 1) [default: the variant's]."),
        frames: int = typer.Option(None, help=f"Frames per clip (default {CLIP_FRAMES}, the paper's).",
                                   min=1),
        stride: int = typer.Option(None, help="Take every stride-th source frame (default 1)."),
        epochs: int = typer.Option(None, help="Epochs (default 30).", min=1),
        batch: int = typer.Option(None, "--batch", "--batch-size",
                                  help="Clips per step per process (default 8).", min=1),
        lr: float = typer.Option(None, help="Peak learning rate (default 2e-3)."),
        tube_mask: float = typer.Option(None, "--tube-mask", help="Masked patch fraction (default 0)."),
        jitter: float = typer.Option(None, help="Random crop keeps 1-jitter..1 of each side (default 0.1)."),
        flip: float = typer.Option(None, help="Probability of a horizontal flip that swaps mirrored labels "
                                              "(Swiping Left <-> Right; default 0)."),
        device: str = typer.Option(None, help="auto | cpu | cuda (default auto)."),
        precision: str = typer.Option(None, help="auto (bf16 on CUDA) | fp32 | bf16 (autocast)."),
        compile: str = typer.Option(None, "--compile",
                                    help="torch.compile the units: auto (on CPU) | on | off."),
        out: Path = typer.Option(None, "--out", help="Run folder (default runs/train)."),
        resume: bool = typer.Option(None, "--resume/--no-resume", help="Continue OUT/last.pt."),
        init: Path = typer.Option(None, "--init", help="Start from these weights (a .pt or an "
                                  "exported folder with checkpoint.pt): a warm start with a new "
                                  "optimizer and schedule."),
        seed: int = typer.Option(None, help="Seed for order, augmentation and init (default 0)."),
        workers: int = typer.Option(None, help="DataLoader workers decoding clips (default 2).", min=0),
        threads: int = typer.Option(None, help="torch threads per process (default: torch's).", min=0),
        max_minutes: float = typer.Option(None, "--max-minutes", help="Stop after this long."),
        checkpoint_minutes: float = typer.Option(None, "--checkpoint-minutes",
                                                 help="Also save last.pt this often mid-epoch (default 5)."),
        config: Path = typer.Option(None, "--config", help="TOML file giving any of these flags."),
    ):
        """Train an LCR model (CPU, CUDA, or many GPUs with torchrun)."""
        from lcr_edge.training.train import TrainConfig
        from lcr_edge.training.train import train as run

        cli = dict(data=str(data) if data else None, variant=variant, cell=cell, head=head, motion=motion,
                   stem=stem, frames=frames, stride=stride, epochs=epochs, batch=batch, lr=lr,
                   tube_mask=tube_mask, jitter=jitter, flip=flip, device=device, precision=precision,
                   compile=compile,
                   out=str(out) if out else None, resume=resume, init=str(init) if init else None,
                   seed=seed, workers=workers,
                   threads=threads, max_minutes=max_minutes, checkpoint_minutes=checkpoint_minutes)
        cfg = TrainConfig.from_sources(str(config) if config else None, cli)
        run(cfg, log=lambda s: typer.echo(s, err=True))

    @app.command("eval")
    def evaluate(
        model: Path = typer.Option(..., "--model",
                                   help="Checkpoint (.pt), or an exported folder (its INT8 file "
                                        "where it has one, through --backend)."),
        data: Path = typer.Option(None, "--data", help="Dataset folder (clip evaluation)."),
        split: str = typer.Option("validation", help="train | validation."),
        frames: int = typer.Option(None, help="Frames per clip (default: as trained).", min=1),
        batch: int = typer.Option(8, "--batch", "--batch-size", min=1, help="Clips per batch."),
        workers: int = typer.Option(2, min=0),
        stream: bool = typer.Option(False, "--stream", help="Event-level accuracy on long synthetic "
                                    "streams instead of clip accuracy."),
        streams: int = typer.Option(4, help="--stream: how many streams.", min=1),
        gestures: int = typer.Option(10, help="--stream: gestures per stream.", min=1),
        seed: int = typer.Option(1000, help="--stream: render seed (use one never used in training)."),
        style: str = typer.Option(None, help="--stream: synth style (default, new-user)."),
        profile: str = typer.Option("media", help="--stream: profile whose [events] rules apply."),
        backend: str = typer.Option("openvino", help="With a folder: runtime backend "
                                    "(openvino, onnxruntime)."),
        horizon: int = typer.Option(None, help="--stream: restart the state every N "
                                    "frames in two staggered lanes; 0 = never [default: the "
                                    "model's training clip length].", min=0),
        out: Path = typer.Option(None, "--out", help="Folder for confusion.png and metrics.json "
                                 "[default: MODEL's folder/eval-SPLIT; runs/bundled-model/eval-SPLIT "
                                 "for the bundled model]."),
        as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
    ):
        """Clip accuracy (top-1/top-5 with the paper's score and the last frame's, per class, a
        confusion PNG), or with --stream the event accuracy and false fires users feel."""
        from lcr_edge.artifact import check_backend

        check_backend(backend)  # whatever the model: one message for every command
        if stream:
            _eval_stream(model, streams, gestures, seed, style, profile, backend, as_json, horizon)
            return
        if data is None:
            from lcr_edge.errors import LCRError

            raise LCRError("clip evaluation needs --data DIR (or use --stream)")
        from lcr_edge.io import write_json
        from lcr_edge.training.evaluate import plot_confusion

        if out is not None:
            from lcr_edge.io import check_output_folder

            check_output_folder(out)  # before the clips are scored, not after
        res = predict_clips(model, data, split, frames, backend, batch, workers, as_json)
        m = res.metrics()
        if out is None:
            from lcr_edge.paths import BUNDLED_MODEL

            home = Path(model) if Path(model).is_dir() else Path(model).parent
            if home.resolve() == BUNDLED_MODEL.resolve():  # never write into the installed package
                home = Path("runs") / "bundled-model"
            out = home / f"eval-{split}"
        out.mkdir(parents=True, exist_ok=True)
        plot_confusion(res.confusion(), res.labels, out / "confusion.png",
                       f"{Path(model).name} on {split}: top-1 {100 * m.get('top1_paper', 0):.1f} %")
        write_json(out / "metrics.json", m)
        if as_json:
            typer.echo(json.dumps(m, indent=2))
            return
        typer.echo(f"{m['clips']} clips ({m['skipped']} unreadable, skipped)")
        typer.echo(f"top-1 {100 * m['top1_paper']:.2f} %  top-5 {100 * m['top5_paper']:.2f} %  "
                   f"(paper score: best of the last {m['paper_window']} frames, the clip's last 0.83 s)")
        typer.echo(f"top-1 {100 * m['top1_last']:.2f} %  top-5 {100 * m['top5_last']:.2f} %  (last frame)")
        for name, acc in m["per_class"].items():
            typer.echo(f"  {name:<32} {100 * acc:6.1f} %")
        typer.echo(f"confusion matrix: {out / 'confusion.png'}")


def predict_clips(model, data, split="validation", frames=None, backend="openvino", batch=8,
                  workers=2, quiet=False):
    """Per-frame probabilities of every clip of `data`'s `split`, as `lcr-edge eval` scores them
    (a `training.evaluate.EvalResult`, with the clip keys): a checkpoint in PyTorch, an exported
    folder frame by frame through `backend` (its INT8 file where it has one)."""
    from tqdm import tqdm

    from lcr_edge.model.checkpoint import load_checkpoint
    from lcr_edge.preprocess import Preprocess
    from lcr_edge.training.data import ClipDataset, make_loader
    from lcr_edge.training.evaluate import predict

    if Path(model).is_dir():
        return _predict_exported(model, data, split, frames, backend, batch, workers, quiet)
    net, ckpt = load_checkpoint(model)
    sampling = ckpt.get("sampling", {})
    ds = ClipDataset.from_dir(data, split, frames or sampling.get("frames", CLIP_FRAMES), train=False,
                              stride=sampling.get("stride", 1), labels=ckpt["labels"],
                              preprocess=Preprocess.from_dict(ckpt["preprocess"]))
    with tqdm(total=len(ds), desc="eval", leave=False, disable=quiet) as bar:
        return predict(net, make_loader(ds, batch, False, workers), progress=bar)


def _predict_exported(folder, data, split, frames, backend, batch, workers, quiet):
    """Clip accuracy of an exported folder: every clip through a runtime backend frame by frame,
    state carried, as `lcr-edge run` would see it (the INT8 file where the folder has one)."""
    import numpy as np
    from tqdm import tqdm

    from lcr_edge import artifact
    from lcr_edge.errors import LCRError
    from lcr_edge.preprocess import Preprocess
    from lcr_edge.quantize.evaluate import predict_backend
    from lcr_edge.runtime import default_precision, open_backend
    from lcr_edge.scoring import paper_window
    from lcr_edge.training.data import ClipDataset, make_loader
    from lcr_edge.training.evaluate import EvalResult

    if backend not in ("openvino", "onnxruntime"):
        raise LCRError(f"--backend for an exported folder: openvino or onnxruntime, not {backend!r}")
    meta = artifact.read_metadata(folder)
    precision = default_precision(meta, backend)
    runner = open_backend(folder, backend, precision)
    sampling = meta.get("sampling") or {}
    pre = Preprocess.from_dict(meta)

    def dataset(stride):
        return ClipDataset.from_dir(data, split, frames or sampling.get("frames", CLIP_FRAMES), train=False,
                                    stride=stride, labels=meta["labels"], preprocess=pre)

    ds = dataset(1)
    stride = sampling.get("stride") or max(1, round(ds.sampling.source_fps / meta["frame_rate"]))
    if stride != 1:
        ds = dataset(stride)
    if not quiet:
        typer.echo(f"{folder}: {precision} {backend}, every {stride} frame(s)", err=True)
    loader = make_loader(ds, batch, False, workers)
    skipped, keys = 0, []

    def batches(bar):
        nonlocal skipped
        for b in loader:
            skipped += len(b.skipped)
            keys.extend(b.keys)  # in the order predict_backend scores them
            yield b
            bar.update(1)

    with tqdm(total=len(loader), desc=f"eval {precision}", leave=False, disable=quiet) as bar:
        probs, targets = predict_backend(runner, batches(bar))
    return EvalResult(list(meta["labels"]), probs, targets.astype(np.int64), keys, skipped,
                      paper_window(float(meta["frame_rate"])))


def _eval_stream(model, streams, gestures, seed, style, profile, backend, as_json, horizon=None):
    from tqdm import tqdm

    from lcr_edge.actions import load_profile
    from lcr_edge.training.stream_eval import evaluate_streams

    events = load_profile(profile).events
    with tqdm(total=streams, desc="streams", leave=False, disable=as_json) as bar:
        m = evaluate_streams(model, events, streams, gestures, seed, style, backend, progress=bar,
                             horizon=horizon)
    if as_json:
        typer.echo(json.dumps(m, indent=2))
        return
    for i, s in enumerate(m["per_stream"]):
        typer.echo(f"stream {i}: truth {s['truth']}")
        typer.echo(f"          fired {s['fired']}  ({s['false_fires']} false fires)")
    lat = m["median_latency_s"]
    typer.echo(f"event accuracy {100 * m['event_accuracy']:.1f} % ({m['true_gestures']} gestures, edit "
               f"distance {m['edit_distance']}); false fires {m['false_fires']} in "
               f"{m['idle_minutes']:.2f} idle min = {m['false_fires_per_idle_minute']:.2f}/min; "
               f"median latency {'n/a' if lat is None else f'{lat:.2f} s'} after the motion ends "
               f"(model at {m['model_frame_rate']:.1f} fps, horizon {m['horizon'] or 'none'}, "
               f"profile {profile!r}, seed {seed})")
