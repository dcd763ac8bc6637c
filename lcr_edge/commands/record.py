"""`lcr-edge record --out DIR --label NAME`: record clips of one gesture into a Jester-layout set."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import typer


def _say(text: str, end: str = "\n") -> None:
    """Progress goes to stderr (stdout stays clean for --json); \\r lines redraw in place."""
    sys.stderr.write(text + end)
    sys.stderr.flush()


def register(app: typer.Typer) -> None:
    @app.command()
    def record(
        out: Path = typer.Option(..., "--out", "-o", help="Gesture set folder (Jester layout); "
                                 "created if new, appended to if it exists."),
        label: str = typer.Option(..., "--label", "-l", help="Gesture name: one of Jester's "
                                  "(e.g. 'Thumb Up') or a new one (e.g. 'Waving Hello')."),
        count: int = typer.Option(5, "--count", "-n", help="Clips to record.", min=1),
        seconds: float = typer.Option(3.0, "--seconds", help="Length of each clip."),
        source: str = typer.Option("0", "--source", "-s", help="Camera index, video file or "
                                   "folder of frames."),
        countdown: float = typer.Option(3.0, "--countdown", help="Seconds of countdown before "
                                        "each clip from a camera (0: none)."),
        as_json: bool = typer.Option(False, "--json", help="Print what was saved as JSON."),
        new: bool = typer.Option(False, "--new", help="The name is a gesture of your own, even if "
                                 "it is close to a known one."),
    ):
        """Record COUNT clips of one gesture from a camera (or a video) with a countdown before
        each, into the layout `lcr-edge finetune` and `lcr-edge train` read. Clips are numbered
        after the ones already there; a clip is written completely or not at all. Directions
        are Jester's: as you, the person performing, see them ('Swiping Left' is a sweep to your
        left); clips are saved unmirrored."""
        from lcr_edge.errors import LCRError
        from lcr_edge.howto import gesture_hint
        from lcr_edge.recording import (
            MIN_FRAMES,
            RECORD_FPS,
            RecordingSet,
            check_label,
            near_misses,
            record_clips,
        )
        from lcr_edge.sources import open_source

        if count < 1:
            raise LCRError(f"--count must be at least 1, got {count}")
        n_frames = round(seconds * RECORD_FPS)
        if n_frames < MIN_FRAMES:
            raise LCRError(f"--seconds {seconds:g} is too short: {n_frames} frames at "
                           f"{RECORD_FPS:g} fps, a clip needs at least {MIN_FRAMES} "
                           f"({MIN_FRAMES / RECORD_FPS:.2f} s); 3 s suits most gestures")
        check_label(label)  # a bad name fails before anything is created
        created = not Path(out).expanduser().exists()
        rs = RecordingSet.open(out)
        try:
            name = check_label(label, rs.labels)
            close = near_misses(name, rs.labels)
            if close and not new:
                raise LCRError(f"gesture {name!r} is new here, but close to "
                               f"{' and '.join(repr(c) for c in close)}: did you mean "
                               f"--label {close[0]!r}? Pass --new to record a gesture of your own")
            if rs.recovered:
                _say(f"recovered {len(rs.recovered)} clip(s) from an interrupted recording: "
                     f"{', '.join(rs.recovered)}")
            if name != " ".join(label.split()):
                _say(f"using the existing gesture name {name!r} for {label!r}")
            src = open_source(source)
            had = rs.counts().get(name, 0)
            _say(f"recording {count} clip(s) of {name!r}, {seconds:g} s each, from {src.name} into "
                 f"{out} ({had} already there)")
            hint = gesture_hint(name)  # which way it goes, as the person performing sees it
            if hint:
                _say(f"  {hint}")
            session = record_clips(rs, name, src, count, n_frames, _say, countdown,
                                   redraw=sys.stderr.isatty())  # a log file: one line a clip
            if session.failure:
                raise LCRError(_failed(session.failure, session.saved, count, name, out))
        except BaseException:
            if created and not rs.counts():  # nothing recorded (no camera, Ctrl+C): leave no folder
                shutil.rmtree(rs.root, ignore_errors=True)
            raise
        saved, notes = session.saved, session.notes
        for note in notes:
            _say(note)
        counts = rs.counts()
        if as_json:
            typer.echo(json.dumps({"out": str(out), "label": name, "saved": saved,
                                   "frames_per_clip": n_frames, "notes": notes,
                                   "counts": counts}, indent=2))
        else:
            ids = f" (ids {saved[0]}-{saved[-1]})" if len(saved) > 1 else \
                (f" (id {saved[0]})" if saved else "")
            typer.echo(f"saved {len(saved)} clip(s) of {name!r}{ids} into {out}; the set has "
                       + ", ".join(f"{lb}: {n}" for lb, n in counts.items()))
        if not saved:
            raise typer.Exit(1)


def _failed(why: str, saved: list[str], count: int, name: str, out: Path) -> str:
    kept = f"the {len(saved)} clip(s) before it are saved in {out}" if saved else "nothing saved"
    rest = count - len(saved)
    return (f"{why}; that clip was dropped, {kept}. Check the camera and run again with "
            f"--label {name!r} --count {rest} to record the rest")
