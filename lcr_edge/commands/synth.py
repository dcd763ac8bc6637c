"""`lcr-edge synth`: render synthetic gesture clips in the 20BN Jester layout (training/synth)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from lcr_edge.errors import LCRError


def parse_size(text: str) -> tuple[int, int]:
    """'176x100' -> (176, 100); LCRError on anything else."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise LCRError(f"--size must be WIDTHxHEIGHT in pixels, like 176x100, got {text!r}") \
            from None
    if w < 16 or h < 16 or w > 4096 or h > 4096:
        raise LCRError(f"--size must be between 16x16 and 4096x4096, got {text!r}")
    return w, h


def parse_frames(text: str, option: str = "--frames") -> int | tuple[int, int]:
    """'36' -> 36, '30-40' -> (30, 40); LCRError (naming `option`) on anything else."""
    try:
        parts = [int(p) for p in text.split("-")] if "-" in text.strip("-") else [int(text)]
    except ValueError:
        raise LCRError(f"{option} must be a count like 36 or a range like 30-40, got {text!r}") \
            from None
    if len(parts) > 2 or min(parts) < 1 or parts[-1] < parts[0]:
        raise LCRError(f"{option} must be at least 1 (a range must be LO-HI with LO <= HI), "
                       f"got {text!r}")
    return parts[0] if len(parts) == 1 else (parts[0], parts[1])


def register(app: typer.Typer) -> None:
    @app.command()
    def synth(
        out: Path = typer.Argument(None, help="Output folder (Jester layout), new or empty."),
        clips_per_class: int = typer.Option(None, "--clips-per-class", "-n",
                                            help="Clips to render per class."),
        streams: int = typer.Option(None, "--streams", min=1, help="Instead of clips: N long "
                                    "streams (gestures back to back, Doing other things, 15-40 s "
                                    "idle stretches) with their events, for lcr-edge train --mode "
                                    "stream."),
        seed: int = typer.Option(0, help="Random seed: same seed, same JPEGs."),
        frames: str = typer.Option("36", help="Frames per clip, or a range LO-HI drawn per clip "
                                   "(Jester: 30-40)."),
        size: str = typer.Option("176x100", help="Frame size WIDTHxHEIGHT (Jester: ~176x100)."),
        val_fraction: float = typer.Option(0.2, help="Fraction of each class for validation."),
        workers: int = typer.Option(None, help="Worker processes (default: all cores).", min=1),
        style: str = typer.Option("default", help="Appearance: 'default' (webcam-like), 'new-user' "
                                  "(skin and background never used by 'default'), 'drawn' (the "
                                  "earlier flat look) or 'studio' (plain)."),
        extra: list[str] = typer.Option(None, "--extra", help="Add a non-Jester gesture after the "
                                        "27 classes (repeatable; 'all' adds every extra)."),
        overwrite: bool = typer.Option(False, help="Replace an earlier synth output in OUT."),
        list_gestures: bool = typer.Option(False, "--list", help="List gestures and exit."),
        bench: bool = typer.Option(False, "--bench", help="Measure clips/s (8 clips per class "
                                   "unless -n) in a temporary folder inside OUT (default: the "
                                   "current folder), then delete it."),
        preview: Path = typer.Option(None, "--preview", help="Write a contact sheet (PNG) of one "
                                     "clip per class, every 4th frame, and exit."),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    ):
        """Render synthetic gesture clips (all 27 Jester classes) in the 20BN Jester layout:
        OUT/<id>/00001.jpg..., jester-v1-{labels,train,validation,test}.csv.

        Example: lcr-edge synth data/synth --clips-per-class 80 --seed 0
        """
        from lcr_edge.labels import JESTER_LABELS
        from lcr_edge.training.synth import EXTRA_GESTURES
        from lcr_edge.training.synth.dataset import bench as run_bench
        from lcr_edge.training.synth.dataset import write_dataset

        if list_gestures:
            for name in JESTER_LABELS:
                typer.echo(name)
            for name in EXTRA_GESTURES:
                typer.echo(f"{name}  (extra, add with --extra)")
            return
        wh = parse_size(size)
        n_frames = parse_frames(frames)
        one_length = n_frames if isinstance(n_frames, int) else n_frames[1]
        labels = list(JESTER_LABELS)
        for name in extra or []:
            if name == "all":
                labels += [e for e in EXTRA_GESTURES if e not in labels]
            elif name not in EXTRA_GESTURES:
                raise LCRError(f"--extra {name!r}: not an extra gesture; known: "
                               f"{', '.join(EXTRA_GESTURES)}")
            elif name not in labels:
                labels.append(name)
        if preview is not None:
            from lcr_edge.training.synth.preview import write_contact_sheet

            path = write_contact_sheet(preview, labels, seed=seed, frames=one_length, size=wh,
                                       style=style)
            typer.echo(f"wrote {path} ({len(labels)} classes, every 4th of {frames} frames)")
            return
        if bench:
            result = run_bench(clips_per_class or 8, workers, one_length, wh, out or ".")
            if as_json:
                typer.echo(json.dumps(result))
            else:
                typer.echo(f"synth: {result['clips']} clips x {frames} frames at {size}, "
                           f"{result['workers']} workers: {result['seconds']:.2f} s wall, "
                           f"{result['clips_per_s']:.1f} clips/s (render + JPEG + write)\n"
                           f"CPU: {result['cpu_ms_per_clip']:.1f} ms per clip -> "
                           f"{result['cpu_bound_clips_per_s']:.1f} clips/s on {result['workers']} "
                           f"idle cores (load average now {result['load_average'][0]})")
            return
        if out is None:
            raise LCRError("synth needs an output folder: lcr-edge synth OUT --clips-per-class N")
        from lcr_edge.training.synth.dataset import missing_photos

        notice = missing_photos(style)
        if notice:
            typer.echo(f"warning: {notice}", err=True)
        if streams is not None:
            if clips_per_class is not None:
                raise LCRError("give --clips-per-class or --streams, not both")
            from lcr_edge.training.synth.dataset import write_streams

            summary = write_streams(out, streams, seed=seed, size=wh, val_fraction=val_fraction,
                                    workers=workers, style=style, overwrite=overwrite,
                                    progress=not as_json)
            typer.echo(json.dumps(summary) if as_json else
                       f"wrote {summary['streams']} streams ({summary['validation']} validation, "
                       f"{summary['minutes']:.0f} minutes of video) to {out} in "
                       f"{summary['seconds']:.1f} s")
            return
        if clips_per_class is None:
            raise LCRError("synth needs --clips-per-class N (for example 80)")
        summary = write_dataset(out, clips_per_class, seed=seed, frames=n_frames, size=wh,
                                val_fraction=val_fraction, workers=workers, labels=labels,
                                style=style, overwrite=overwrite, progress=not as_json)
        typer.echo(json.dumps(summary) if as_json else
                   f"wrote {summary['clips']} clips ({summary['train']} train, "
                   f"{summary['validation']} validation, {len(labels)} classes) to {out} in "
                   f"{summary['seconds']:.1f} s ({summary['clips_per_s']:.0f} clips/s)")
