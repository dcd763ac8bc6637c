"""`lcr-edge finetune --data DIR --out DIR [--model BASE]`: adapt a model (by default the bundled
one) to your own clips on the CPU and export it ready for the app (INT8 OpenVINO stateful + ONNX +
model.json)."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def finetune(
        model: str = typer.Option(None, "--model", "-m", help="Base: a checkpoint (.pt) or an "
                                  "exported model folder with checkpoint.pt (default: "
                                  "$LCR_EDGE_MODEL, else the bundled model)."),
        data: Path = typer.Option(..., "--data", help="Your gesture set (from `lcr-edge record`)."),
        out: Path = typer.Option(..., "--out", "-o", help="Artifact folder to write."),
        minutes: float = typer.Option(5.0, "--minutes", help="Time budget for training and the "
                                      "held-out check (the export comes after, about a minute)."),
        train: str = typer.Option("all", "--train", help="What to train: head, last (the last "
                                  "unit and the head) or all (body at a small rate); see "
                                  "docs/personal.md for the measurements behind the default."),
        lr: float = typer.Option(0.0, "--lr", help="Head learning rate (0: the strategy's)."),
        holdout: float = typer.Option(0.2, "--holdout", help="Share of each gesture's clips kept "
                                      "out of training to measure accuracy (0: none)."),
        epochs: int = typer.Option(0, "--epochs", help="At most this many passes (0: until the "
                                   "budget is spent).", min=0),
        batch: int = typer.Option(8, "--batch", "--batch-size", min=1, help="Clips per step."),
        precision: str = typer.Option("bf16", "--precision", help="bf16 (autocast) or fp32."),
        qat_steps: int = typer.Option(0, "--qat-steps", help="Quantization-aware steps after "
                                      "post-training INT8 (0: PTQ only).", min=0),
        threads: int = typer.Option(0, "--threads", help="Torch threads (0: default).", min=0),
        seed: int = typer.Option(0, "--seed"),
        no_export: bool = typer.Option(False, "--no-export", help="Only write finetuned.pt."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ):
        """Fine-tune a trained model (without --model: the bundled one) on your clips (new
        gesture names welcome: they get rows of a new head, and their names travel in
        model.json), report held-out accuracy, then quantize and export. The base's own classes
        that your set contains keep their trained rows."""
        from lcr_edge.io import check_output_folder
        from lcr_edge.quantize.pipeline import finetune_and_export
        from lcr_edge.training.finetune import FinetuneConfig

        check_output_folder(out, create=False)  # before a minute of training, not after
        cfg = FinetuneConfig(model=model or "", data=str(data), out=str(out), minutes=minutes,
                             train=train, lr=lr, holdout=holdout, batch=batch, epochs=epochs,
                             precision=precision, seed=seed, threads=threads,
                             export=not no_export, qat_steps=qat_steps)

        def log(*args) -> None:
            if not as_json:
                typer.echo(" ".join(str(a) for a in args))

        report = finetune_and_export(cfg, log=log)  # its progress bar shows the seconds spent
        if as_json:
            typer.echo(json.dumps(report, indent=2))
            return
        after = report["held_out_after"]
        if after:
            typer.echo(f"held-out accuracy per gesture ({after['clips']} clips): " + ", ".join(
                f"{k} {v:.0f} %" for k, v in after["per_class"].items()))
        if "export" in report:
            acc = report["export"]["accuracy"]
            typer.echo(f"ready: {out} (FP32 {acc.get('fp32', '-')} %, INT8 "
                       f"{acc.get('qat_int8', acc.get('ptq_int8', '-'))} % held-out); "
                       f"use it with `lcr-edge app --model {out}` or Model > Open model in the app")
        typer.echo(f"total {report['total_seconds']:.0f} s; report: {out / 'finetune.json'}")
