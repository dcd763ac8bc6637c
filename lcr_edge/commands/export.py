"""`lcr-edge export CKPT --out DIR`: the streaming step as ONNX and OpenVINO IR (FP32) + model.json."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from lcr_edge.artifact import EXPORT_FORMATS
from lcr_edge.labels import JESTER_FPS


def register(app: typer.Typer) -> None:
    @app.command()
    def export(
        checkpoint: Path = typer.Argument(None, help="Checkpoint (.pt) written by `lcr-edge train` "
                                          "(or give it as --model)."),
        model: Path = typer.Option(None, "--model", "-m", help="The checkpoint, as other "
                                   "commands take it (same as the CHECKPOINT argument)."),
        out: Path = typer.Option(..., "--out", "-o", help="Artifact folder to write (created)."),
        fmt: str = typer.Option("all", "--format", help=f"{', '.join(EXPORT_FORMATS)}: the "
                                "files of which backends to write (`lcr-edge info` lists them)."),
        frame_rate: float = typer.Option(None, "--frame-rate",
                                         help="Frames per second the model expects [default: the "
                                              f"checkpoint's, else {JESTER_FPS:g} (Jester)]."),
        data: Path = typer.Option(None, "--data", help="Dataset folder (Jester layout): measure "
                                  "validation top-1 and record it in model.json."),
        limit: int = typer.Option(None, "--limit", help="With --data: at most this many "
                                  "validation clips."),
        as_json: bool = typer.Option(False, "--json", help="Print model.json's content as JSON."),
    ):
        """Export a checkpoint's streaming step (frame, edge, state -> logits, new state) with
        static shapes: ONNX FP32, OpenVINO IR FP32 stateless and stateful, and model.json."""
        from lcr_edge.io import check_output_folder, one_model_argument
        from lcr_edge.model.checkpoint import load_checkpoint
        from lcr_edge.quantize.export import export_fp32

        checkpoint = one_model_argument(checkpoint, model)
        check_output_folder(out, create=False)
        t0 = time.perf_counter()
        model, ckpt = load_checkpoint(checkpoint)
        accuracy = None
        if data is not None:
            from lcr_edge.labels import CLIP_FRAMES
            from lcr_edge.quantize.step import StepModule
            from lcr_edge.training.data import clips_for_model, make_loader
            from lcr_edge.training.evaluate import predict, step_probs

            clips = clips_for_model(data, "validation", ckpt, CLIP_FRAMES, limit=limit)
            accuracy = predict(step_probs(StepModule(model)), make_loader(clips)).summary()
        meta = export_fp32(model, ckpt, checkpoint, out, fmt, frame_rate, accuracy)
        if as_json:
            typer.echo(json.dumps(meta, indent=2))
            return
        typer.echo(f"exported {meta['variant']} ({meta['params'] / 1e6:.2f} M params, "
                   f"{meta['macs_per_frame'] / 1e6:.0f} M MACs/frame) in "
                   f"{time.perf_counter() - t0:.1f} s to {out}")
        for precision, kinds in meta["files"].items():
            for kind, entry in kinds.items():
                typer.echo(f"  {precision:<5} {kind:<18} {entry['path']:<28} "
                           f"{entry['bytes'] / 1e6:7.2f} MB")
        for precision, diffs in meta["parity"].items():
            typer.echo(f"  parity {precision} vs PyTorch (max |dlogits|, 8 frames): " +
                       ", ".join(f"{k} {v:.1e}" for k, v in diffs.items()))
        if accuracy:
            typer.echo(f"  validation top-1 (FP32, PyTorch): {accuracy['top1']:.2f} % "
                       f"on {accuracy['clips']} clips")
        typer.echo(f"next: lcr-edge run --model {out} --source demo   (or lcr-edge bench --model "
                   f"{out}; lcr-edge quantize for INT8)")
