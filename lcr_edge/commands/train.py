"""`lcr-edge train` and `lcr-edge eval`: parse, call training.train / training.evaluate, print."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from lcr_edge.labels import CLIP_FRAMES


def register(app: typer.Typer) -> None:
    @app.command()
    def train(
        data: Path = typer.Option(None, "--data", help="Dataset folder: Jester layout or <label>/*.mp4; "
                                  "with --mode stream a stream set (lcr-edge synth OUT --streams N)."),
        mode: str = typer.Option(None, help="clip (a class a clip) | stream (per-frame targets over "
                                 "long streams, the state carried from chunk to chunk; what the "
                                 "runtime's one state for ever needs) [default: clip]."),
        variant: str = typer.Option(None, help="lcr-s | lcr | lcr-l (default lcr-s), or lcr-s-paper | "
                                    "lcr-paper | lcr-l-paper: the paper's recipe as written."),
        cell: str = typer.Option(None, help="bounded | paper (eq. 10 literally) [default: the variant's]."),
        head: str = typer.Option(None, help="max | mean | cls (eq. 12 literally) [default: the variant's]."),
        motion: str = typer.Option(None, help="diff (x_t - x_t-1) | none (eq. 1) [default: the variant's]."),
        stem: str = typer.Option(None, help="conv (ConvStem) | patch (eq. 1) [default: the variant's]."),
        frames: int = typer.Option(None, help=f"Frames per clip (default {CLIP_FRAMES}, the paper's); "
                                   "stream mode: frames per chunk of backpropagation.", min=1),
        stride: int = typer.Option(None, help="Take every stride-th source frame (default 1)."),
        epochs: int = typer.Option(None, help="Epochs (default 30).", min=1),
        batch: int = typer.Option(None, "--batch", "--batch-size",
                                  help="Clips per step per process (default 8); stream mode: "
                                  "streams side by side.", min=1),
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
        epoch_steps: int = typer.Option(None, "--epoch-steps", help="Stream mode: steps an epoch "
                                        "(default 500).", min=1),
        reset_p: float = typer.Option(None, "--reset-p", help="Stream mode: chance a stream starts "
                                      "from a zero state, else it inherits the last one's (default "
                                      "0.5).", min=0.0, max=1.0),
        config: Path = typer.Option(None, "--config", help="TOML file giving any of these flags."),
    ):
        """Train an LCR model (CPU, CUDA, or many GPUs with torchrun)."""
        from lcr_edge.training.train import TrainConfig
        from lcr_edge.training.train import train as run

        cli = dict(data=str(data) if data else None, mode=mode, variant=variant, cell=cell, head=head,
                   motion=motion, stem=stem, frames=frames, stride=stride, epochs=epochs, batch=batch, lr=lr,
                   tube_mask=tube_mask, jitter=jitter, flip=flip, device=device, precision=precision,
                   compile=compile,
                   out=str(out) if out else None, resume=resume, init=str(init) if init else None,
                   seed=seed, workers=workers, epoch_steps=epoch_steps, reset_p=reset_p,
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
        long_idle: float = typer.Option(0.0, "--long-idle", min=0.0, max=1.0, help="--stream: chance "
                                        "that a gap is a 30-40 s idle stretch (default 0)."),
        seed: int = typer.Option(1000, help="--stream: render seed (use one never used in training)."),
        style: str = typer.Option(None, help="--stream: synth style: default, new-user, or webcam "
                                  "(the default before its framing knobs)."),
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
            from tqdm import tqdm

            from lcr_edge.training.stream_eval import evaluate_streams

            with tqdm(total=streams, desc="streams", leave=False, disable=as_json) as bar:
                m = evaluate_streams(model, profile, streams, gestures, seed, style,
                                     backend, progress=bar, horizon=horizon, long_idle=long_idle)
            _print_streams(m, profile, seed, as_json)
            return
        if data is None:
            from lcr_edge.errors import LCRError

            raise LCRError("clip evaluation needs --data DIR (or use --stream)")
        from lcr_edge.training.evaluate import evaluate_model, save_report

        if out is not None:
            from lcr_edge.io import check_output_folder

            check_output_folder(out)  # before the clips are scored, not after
        res = evaluate_model(model, data, split, frames, backend, batch, workers, quiet=as_json)
        out = save_report(res, model, split, out)
        m = res.metrics()
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


def _print_streams(m: dict, profile: str, seed: int, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(m, indent=2))
        return
    for i, s in enumerate(m["per_stream"]):
        typer.echo(f"stream {i}: truth {s['truth']}")
        typer.echo(f"          fired {s['fired']}  ({s['false_fires']} false fires)")
    lat, p90 = m["median_latency_s"], m["p90_latency_s"]
    typer.echo(f"event accuracy {100 * m['event_accuracy']:.1f} % ({m['true_gestures']} gestures, edit "
               f"distance {m['edit_distance']}); false fires {m['false_fires']} in "
               f"{m['idle_minutes']:.2f} idle min = {m['false_fires_per_idle_minute']:.2f}/min; "
               f"longest idle stretch {m['longest_idle_s']:.0f} s; median latency "
               f"{'n/a' if lat is None else f'{lat:.2f} s (p90 {p90:.2f} s)'} after the motion ends "
               f"(model at {m['model_frame_rate']:.1f} fps, horizon {m['horizon'] or 'none'}, "
               f"profile {profile!r}, seed {seed})")
