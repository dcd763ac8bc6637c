"""`lcr-edge quantize CKPT --data DIR --out DIR`: FP32 export + INT8 by NNCF (PTQ and QAT)."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def quantize(
        checkpoint: Path = typer.Argument(None, help="Trained FP32 checkpoint (.pt). Or give it as --model."),
        model: Path = typer.Option(None, "--model", "-m", help="The checkpoint, as other "
                                   "commands take it (same as the CHECKPOINT argument)."),
        data: Path = typer.Option(..., "--data", help="Dataset folder (Jester layout, e.g. from "
                                  "`lcr-edge synth`): training clips for calibration and QAT, "
                                  "validation clips for the accuracy table."),
        out: Path = typer.Option(..., "--out", "-o", help="Artifact folder to write."),
        epochs: int = typer.Option(1, "--epochs", help="QAT epochs (0: post-training only).", min=0),
        steps: int = typer.Option(None, "--steps", help="Stop QAT after this many batches.", min=1),
        lr: float = typer.Option(2e-5, "--lr", help="QAT learning rate (cosine-decayed)."),
        distill: float = typer.Option(1.0, "--distill", min=0.0, max=1.0,
                                      help="QAT loss: 1 = match the FP32 model's outputs "
                                           "(distillation), 0 = the labels, or a blend."),
        holdout: int = typer.Option(64, "--holdout", min=0,
                                    help="Training clips QAT does not train on; it keeps the step "
                                         "whose loss on them is lowest (0: the last step)."),
        check_every: int = typer.Option(25, "--check-every", min=1,
                                        help="QAT batches between two holdout checks."),
        batch_size: int = typer.Option(8, "--batch", "--batch-size", min=1, help="Clips per step."),
        frames: int = typer.Option(None, "--frames", help="Frames per clip [default: the "
                                   "checkpoint's training setting, else 32].", min=1),
        calibration: int = typer.Option(256, "--calibration",
                                        help="Frames (with their states) for PTQ statistics.", min=1),
        train_limit: int = typer.Option(None, "--train-limit", help="At most N training clips."),
        val_limit: int = typer.Option(None, "--val-limit", help="At most N validation clips."),
        workers: int = typer.Option(2, "--workers", help="Data loader worker processes.", min=0),
        wkv_int8: bool = typer.Option(False, "--wkv-int8/--wkv-float",
                                      help="Quantize Bi-WKV's internal products too."),
        device: str = typer.Option("cpu", "--device", help="cpu or cuda: where calibration "
                                   "and QAT run (export and evaluation run on the CPU)."),
        fake_quant: str = typer.Option("auto", "--fake-quant", help="QAT's fake quantizers: "
                                       "extension (NNCF's C++ build), torch (pure PyTorch, same "
                                       "numbers, slower) or auto (the extension if it builds)."),
        as_json: bool = typer.Option(False, "--json", help="Print model.json's content."),
        verbose: bool = typer.Option(False, "--verbose", help="Show NNCF's own INFO messages."),
    ):
        """Quantize a checkpoint to INT8 with NNCF: post-training (PTQ) for comparison, then
        quantization-aware fine-tuning (QAT); writes FP32 and INT8 ONNX / OpenVINO models and
        prints FP32, PTQ-INT8 and QAT-INT8 validation top-1 side by side."""
        from lcr_edge.errors import LCRError
        from lcr_edge.io import check_output_folder, one_model_argument
        from lcr_edge.quantize.extensions import FAKE_QUANT_MODES
        from lcr_edge.quantize.pipeline import QuantizeConfig, quantize_checkpoint

        checkpoint = one_model_argument(checkpoint, model)
        if fake_quant not in FAKE_QUANT_MODES:
            raise LCRError(f"--fake-quant {fake_quant!r}: choose one of {', '.join(FAKE_QUANT_MODES)}")
        check_output_folder(out, create=False)
        if not verbose:  # NNCF logs dozens of INFO lines about nodes it leaves alone
            import logging

            import nncf  # sets its own logger to INFO on import: lower it after

            nncf.set_log_level(logging.WARNING)

        cfg = QuantizeConfig(epochs=epochs, steps=steps, lr=lr, distill=distill,
                             holdout=holdout, check_every=check_every, batch_size=batch_size,
                             frames=frames, calibration=calibration,
                             train_limit=train_limit, val_limit=val_limit, workers=workers,
                             wkv_int8=wkv_int8, device=device, fake_quant=fake_quant)
        log = (lambda *_: None) if as_json else typer.echo
        meta = quantize_checkpoint(checkpoint, data, out, cfg, log=log)  # QAT draws its own bar
        if as_json:
            typer.echo(json.dumps(meta, indent=2))
            return
        acc = meta["accuracy"]
        typer.echo(f"\nvalidation top-1 ({acc['fp32']['clips']} clips, {meta['variant']}):")
        typer.echo(f"  {'model':<10} {'top-1 %':>8} {'vs FP32':>8} {'frames agreeing':>16}")
        for key, name in (("fp32", "FP32"), ("ptq_int8", "PTQ-INT8"), ("qat_int8", "QAT-INT8")):
            if key in acc:
                a = acc[key]
                agree = f"{a['agreement_with_fp32']:.1f} %" if "agreement_with_fp32" in a else "-"
                typer.echo(f"  {name:<10} {a['top1']:>8.2f} {a['top1'] - acc['fp32']['top1']:>+8.2f} "
                           f"{agree:>16}")
        typer.echo("  (FP32 in PyTorch; INT8 on the exported OpenVINO files; agreement: per-frame "
                   "top-1 after the 10th frame)")
        typer.echo(f"wrote {out} in {meta['quantization']['seconds']:.0f} s: " +
                   ", ".join(f"{p}/{k}" for p, ks in meta["files"].items() for k in ks))
        typer.echo(f"next: lcr-edge run --model {out} --source demo   (or lcr-edge bench --model "
                   f"{out}; lcr-edge app --model {out})")
