"""`lcr-edge run`: the app's pipeline without a window (lcr_edge.headless). Events and actions as
lines (JSON lines with --json), optionally an annotated video."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        source: str = typer.Option(None, "--source", "-s",
                                   help="Camera index (0), video file, folder of frames or demo "
                                        "[default: the first camera, else the bundled demo clip]."),
        list_cameras: bool = typer.Option(False, "--list-cameras",
                                          help="List the cameras present and exit."),
        model: Path = typer.Option(None, "--model", "-m",
                                   help="Exported model folder [default: $LCR_EDGE_MODEL, else "
                                        "the bundled LCR-S INT8]."),
        profile: str = typer.Option("media", "--profile", "-p",
                                    help="Profile name (media, mpris) or path to a .toml file."),
        backend: str = typer.Option("openvino", help="openvino, onnxruntime or torch."),
        threads: int = typer.Option(None, help="Inference threads (default: the backend's).", min=1),
        horizon: int = typer.Option(None, help="Restart the model's state every N frames in two "
                                    "staggered lanes; 0 = never [default: the model's training "
                                    "clip length, from model.json].", min=0),
        as_json: bool = typer.Option(False, "--json", help="Print JSON lines."),
        out: Path = typer.Option(None, "--out", help="Write an annotated video (.mp4 or .avi)."),
        dry_run: bool = typer.Option(False, "--dry-run",
                                     help="Report the actions without running them."),
        seconds: float = typer.Option(None, help="Stop after this many seconds of video."),
    ):
        """Recognise gestures from a source without a window; print events and actions."""
        from lcr_edge.headless import HeadlessConfig, run_headless
        from lcr_edge.sources import list_cameras as find_cameras

        if list_cameras:
            cams = find_cameras()
            if as_json:
                typer.echo(json.dumps([{"index": i, "name": n} for i, n in cams]))
            else:
                typer.echo("\n".join(f"{i}: {n}" for i, n in cams) or "no cameras found")
            return

        def emit(line) -> None:  # without --json, statuses and the summary go to stderr
            aside = line.record["type"] in ("status", "summary")
            typer.echo(json.dumps(line.record) if as_json else line.text, err=aside and not as_json)

        run_headless(HeadlessConfig(source=source, model=model, profile=profile, backend=backend,
                                    threads=threads, horizon=horizon, out=out, dry_run=dry_run,
                                    seconds=seconds), emit)
