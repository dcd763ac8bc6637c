"""`lcr-edge chain`: clips strung together into streams for stream training (training/chain.py)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from lcr_edge.commands.synth import parse_frames, parse_size


def register(app: typer.Typer) -> None:
    @app.command()
    def chain(
        data: Path = typer.Argument(..., help="A clip set: Jester's layout (as lcr-edge record "
                                    "writes it) or class folders of videos."),
        out: Path = typer.Argument(..., help="Output stream set folder, new or empty."),
        streams: int = typer.Option(100, "--streams", min=1, help="Streams to write."),
        clips: str = typer.Option("3-8", help="Gesture clips a stream, a count or a range LO-HI."),
        seed: int = typer.Option(0, help="Random seed: which clips, in which order."),
        val_fraction: float = typer.Option(0.1, help="Fraction of the streams for validation, "
                                           "made of the set's validation clips (0 for a set "
                                           "without any, such as a recorded one)."),
        size: str = typer.Option("176x100", help="Frame size WIDTHxHEIGHT of the streams."),
        idle: float = typer.Option(0.5, help="Chance that the stretch after a gesture is a 'No "
                                   "gesture' clip (else the last frame, held 0.8-2.5 s)."),
        overwrite: bool = typer.Option(False, help="Replace an earlier chain or synth output."),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    ):
        """Chain the clips of a clip set into streams (gesture clips back to back with idle
        stretches, each clip one event) for lcr-edge train --mode stream.

        Example: lcr-edge chain data/jester data/jester-streams --streams 2000
        """
        from lcr_edge.training.chain import chain_clips

        n = parse_frames(clips, "--clips")
        summary = chain_clips(data, out, streams, clips=(n, n) if isinstance(n, int) else n,
                              seed=seed, val_fraction=val_fraction, size=parse_size(size),
                              idle_p=idle, overwrite=overwrite, progress=not as_json)
        skipped = f"; {summary['skipped']} unreadable clip(s) skipped" if summary["skipped"] else ""
        typer.echo(json.dumps(summary) if as_json else
                   f"wrote {summary['streams']} streams ({summary['validation']} validation, "
                   f"{summary['minutes']:.1f} minutes of video) to {out} in "
                   f"{summary['seconds']:.1f} s{skipped}\n"
                   f"next: lcr-edge train --mode stream --data {out} --init MODEL")
