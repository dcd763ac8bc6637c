"""Real recorded clips: how a model does on real hands, clip by clip and as events.

    python benchmarks/real_clips.py                                  # the bundled model
    python benchmarks/real_clips.py --model runs/lcr-s-synth/best.pt --data DIR --json

DATA is a folder of real recorded clips in the Jester layout (`20bn-jester-v1/<id>/00001.jpg ...`,
`jester-v1-labels.csv`, `jester-v1-validation.csv`): `--data DIR`, or the folder that the
environment variable LCR_REAL_CLIPS names. The clips are only read: measure on them, never train or
tune.

Two measurements, each with the project's own code:
1. clip accuracy exactly as `lcr-edge eval` scores it (`lcr_edge.training.evaluate.evaluate_model`: a
   checkpoint in PyTorch, an exported folder frame by frame through its INT8 file): top-1/top-5 by
   the paper's clip score and by the last frame, a per-class table (clips, correct, top-5 hits, the
   most frequent wrong prediction), a confusion PNG and metrics.json in --out;
2. events as `lcr-edge run` fires them (`lcr_edge.engine.Engine`: the streaming Recognizer with its
   default horizon, the profile's [events] rules), each clip a stream of its own from a fresh
   state: the events per clip (gesture, frame index in the clip), and how many gesture clips got
   the right gesture as their first event, a wrong one, or none; on an idle clip ("No gesture",
   "Doing other things") any event is a false fire.

Labels are taken as the folder gives them (Jester's convention: left/right as the actor sees
them); clips predicted as their mirror image (left <-> right, clockwise <-> counterclockwise) are
counted, since a model trained on the other convention shows up there.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DATA_VARIABLE = "LCR_REAL_CLIPS"  # where --data is not given: the folder this variable names


def model_name(model: Path) -> str:
    """The --out folder name: bundled-model, an exported folder's name, or <run>-<file stem>."""
    from lcr_edge.paths import BUNDLED_MODEL

    if model.resolve() == BUNDLED_MODEL.resolve():
        return "bundled-model"
    if model.is_dir():
        return model.resolve().name
    parent = model.resolve().parent.name
    return f"{parent}-{model.stem}" if parent else model.stem


def per_clip_predictions(res) -> list[dict]:
    """One row per scored clip: its id, truth, the paper-score prediction, top-5, last frame's."""
    paper, last = res.scores("paper"), res.scores("last")
    rows = []
    for i, key in enumerate(res.keys):
        order = np.argsort(-paper[i])[:5]
        rows.append({"id": str(key), "label": res.labels[int(res.targets[i])],
                     "predicted": res.labels[int(order[0])],
                     "score": round(float(paper[i, order[0]]), 4),
                     "top5": [res.labels[int(k)] for k in order],
                     "predicted_last": res.labels[int(last[i].argmax())]})
    return rows


def class_table(clips: list[dict], labels: list[str]) -> list[dict]:
    """Per class with clips (model's label order): clips, correct, top-5 hits, and the most
    frequent wrong prediction (the first in label order on a tie) with its count."""
    rows = []
    for name in labels:
        mine = [c for c in clips if c["label"] == name]
        if not mine:
            continue
        wrong = Counter(c["predicted"] for c in mine if c["predicted"] != name)
        top = max(wrong.items(), key=lambda kv: (kv[1], -labels.index(kv[0])), default=None)
        rows.append({"class": name, "clips": len(mine),
                     "correct": sum(c["predicted"] == name for c in mine),
                     "top5": sum(name in c["top5"] for c in mine),
                     "wrong": top[0] if top else None, "wrong_count": top[1] if top else 0})
    return rows


def mirror_swaps(clips: list[dict]) -> dict:
    """Clips of a handed gesture, and those predicted as its mirror image."""
    from lcr_edge.labels import MIRRORED as mirror

    handed = [c for c in clips if c["label"] in mirror]
    return {"clips": len(handed),
            "swapped": sum(c["predicted"] == mirror[c["label"]] for c in handed)}


def stream_events(model: Path, clips, backend: str, threads, horizon, profile: str,
                  progress=None):
    """Events per clip as `lcr-edge run --source <clip> --profile PROFILE` fires them: {key:
    [event dicts]}. Every clip is its own stream (engine reset: a fresh state, fresh rules)."""
    from lcr_edge.actions import profile_for
    from lcr_edge.engine import Engine
    from lcr_edge.loader import load_recognizer
    from lcr_edge.sources import iter_frames, open_source

    rec = load_recognizer(model, "torch" if model.is_file() else backend, threads, horizon)
    eng = Engine(rec, profile_for(rec, profile).events)
    fired = {}
    for clip in clips:
        eng.reset()
        out = []
        src = open_source(clip.frames_dir if clip.video is None else clip.video)
        for frame in iter_frames(src, eng.frame_rate):
            for ev in eng.step(frame.image, frame.t, frame.index).events:
                if ev.kind in ("single", "hold"):  # "reset" names no gesture
                    out.append({"kind": ev.kind, "gesture": ev.gesture, "frame": frame.index,
                                "t": round(frame.t, 3), "score": round(ev.score, 3)})
        fired[clip.key] = out
        if progress is not None:
            progress.update(1)
    return fired, rec


def event_outcome(label: str, events: list[dict], idle_labels) -> str:
    """right / wrong / none for a gesture clip (by its first event); quiet / false fire for an
    idle clip."""
    singles = [e["gesture"] for e in events if e["kind"] == "single"]
    if label in idle_labels:
        return "false fire" if singles else "quiet"
    if not singles:
        return "none"
    return "right" if singles[0] == label else "wrong"


def event_summary(clips: list[dict], idle_labels) -> dict:
    gesture = [c for c in clips if c["label"] not in idle_labels]
    idle = [c for c in clips if c["label"] in idle_labels]
    singles = lambda c: [e["gesture"] for e in c["events"] if e["kind"] == "single"]  # noqa: E731
    return {
        "gesture_clips": len(gesture),
        "first_event_right": sum(c["outcome"] == "right" for c in gesture),
        "first_event_wrong": sum(c["outcome"] == "wrong" for c in gesture),
        "no_event": sum(c["outcome"] == "none" for c in gesture),
        "wrong_events": sum(g != c["label"] for c in gesture for g in singles(c)),
        "idle_clips": len(idle),
        "idle_clips_with_events": sum(c["outcome"] == "false fire" for c in idle),
        "false_fires": sum(len(singles(c)) for c in idle),
        "events": sum(len(singles(c)) for c in clips),
    }


def benchmark(args, command: str, quiet: bool) -> dict:
    """Both measurements; writes confusion.png and metrics.json into args.out."""
    from tqdm import tqdm

    from lcr_edge.actions import load_profile
    from lcr_edge.errors import LCRError
    from lcr_edge.io import write_json
    from lcr_edge.training.data import ClipDataset
    from lcr_edge.training.evaluate import evaluate_model, plot_confusion

    model, data = Path(args.model), Path(args.data)
    if not model.exists():
        raise LCRError(f"{model}: no such checkpoint (.pt) or exported model folder")
    if not data.is_dir():
        raise LCRError(f"{data}: no such folder (a folder of clips in the Jester layout)")
    idle = tuple(load_profile(args.profile).events.idle_labels)  # a broken one fails here, early
    res = evaluate_model(model, data, args.split, args.frames, args.backend, args.batch,
                         args.workers, quiet)
    m = res.metrics()
    if not m["clips"]:
        raise LCRError(f"{data}: no readable clips in split {args.split!r}")
    clips = per_clip_predictions(res)
    where = {c.key: c for c in ClipDataset.from_dir(data, args.split, labels=res.labels).clips}
    with tqdm(total=len(clips), desc="events", leave=False, disable=quiet) as bar:
        fired, rec = stream_events(model, [where[c["id"]] for c in clips], args.backend,
                                   args.threads, args.horizon, args.profile, bar)
    for c in clips:
        c["events"] = fired[c["id"]]
        c["outcome"] = event_outcome(c["label"], c["events"], idle)
    out = Path(args.out) if args.out else Path("runs") / "real-clips" / model_name(model)
    out.mkdir(parents=True, exist_ok=True)
    K = len(res.labels)
    report = {
        "command": command, "model": str(model.resolve()), "data": str(data.resolve()),
        "split": args.split, "backend": rec.backend, "precision": rec.precision,
        "horizon": rec.horizon, "profile": args.profile, "model_frame_rate": rec.frame_rate,
        "chance_top1": 1 / K, "chance_top5": min(5, K) / K,
        **m,
        "per_class_table": class_table(clips, res.labels),
        "mirror_swaps": mirror_swaps(clips),
        "event_summary": event_summary(clips, idle),
        "per_clip": clips,
        "confusion_png": str(out / "confusion.png"), "metrics_json": str(out / "metrics.json"),
    }
    plot_confusion(res.confusion(), res.labels, out / "confusion.png",
                   f"{model_name(model)} on {data.resolve().name}: top-1 "
                   f"{100 * m['top1_paper']:.1f} % ({m['clips']} real clips)")
    write_json(out / "metrics.json", report)
    return report


def print_report(r: dict) -> None:
    n = r["clips"]
    pct = lambda x: f"{100 * x:5.1f} %"  # noqa: E731
    print(f"runtime: {r['backend']} {r['precision']}")
    print(f"clips: {n} ({r['skipped']} unreadable, skipped); chance {pct(r['chance_top1'])} "
          f"top-1, {pct(r['chance_top5'])} top-5")
    print(f"clip score: top-1 {pct(r['top1_paper'])}  top-5 {pct(r['top5_paper'])}  (paper score: "
          f"best of the last {r['paper_window']} frames)")
    print(f"last frame: top-1 {pct(r['top1_last'])}  top-5 {pct(r['top5_last'])}")
    ms = r["mirror_swaps"]
    if ms["clips"]:
        print(f"mirror image: {ms['swapped']} of {ms['clips']} left/right or (counter)clockwise "
              f"clips predicted as the opposite direction")
    print()
    print(f"  {'class':<30} {'clips':>5} {'correct':>7} {'top-5':>5}  most frequent wrong prediction")
    for row in r["per_class_table"]:
        wrong = f"{row['wrong']} ({row['wrong_count']})" if row["wrong"] else "-"
        print(f"  {row['class']:<30} {row['clips']:>5} {row['correct']:>7} {row['top5']:>5}  {wrong}")
    print()
    print(f"events: profile {r['profile']!r}, {r['backend']} {r['precision']}, horizon "
          f"{r['horizon'] or 'none'}, model at {r['model_frame_rate']:g} fps; each clip from a fresh "
          f"state (frame = index in the clip)")
    print(f"  {'id':<6} {'label':<30} {'clip prediction':<30} {'event':<10} events fired")
    for c in r["per_clip"]:
        singles = [e for e in c["events"] if e["kind"] == "single"]
        holds = len(c["events"]) - len(singles)
        fired = ", ".join(f"{e['gesture']} @{e['frame']}" for e in singles) or "-"
        if holds:
            fired += f" (+{holds} hold)"
        print(f"  {c['id']:<6} {c['label']:<30} {c['predicted']:<30} {c['outcome']:<10} {fired}")
    s = r["event_summary"]
    print(f"gesture clips {s['gesture_clips']}: first event right {s['first_event_right']}, "
          f"wrong {s['first_event_wrong']}, no event {s['no_event']}; wrong events "
          f"{s['wrong_events']}")
    print(f"idle clips {s['idle_clips']}: {s['idle_clips_with_events']} with a false fire "
          f"({s['false_fires']} events)")
    print(f"confusion matrix: {r['confusion_png']}")
    print(f"metrics: {r['metrics_json']}")


def parse_args(argv):
    from lcr_edge.paths import BUNDLED_MODEL

    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Prints the command line and the model first, so the output pastes into a report.")
    ap.add_argument("--model", type=Path, default=BUNDLED_MODEL,
                    help="checkpoint (.pt) or exported model folder [default: the bundled model]")
    ap.add_argument("--data", type=Path, default=None,
                    help="folder of clips in the Jester layout [default: the folder the "
                         "environment variable LCR_REAL_CLIPS names]")
    ap.add_argument("--out", type=Path, default=None,
                    help="folder for confusion.png and metrics.json [default: "
                         "runs/real-clips/<model name>]")
    ap.add_argument("--split", default="validation", help="train | validation [validation]")
    ap.add_argument("--frames", type=int, default=None,
                    help="frames per clip for the clip score [default: as trained]")
    ap.add_argument("--backend", default="openvino", choices=["openvino", "onnxruntime"],
                    help="runtime for an exported folder (a checkpoint runs in PyTorch) [openvino]")
    ap.add_argument("--profile", default="media",
                    help="profile whose [events] rules fire the events [media]")
    ap.add_argument("--horizon", type=int, default=None,
                    help="restart the state every N frames (as lcr-edge run); 0 = never "
                         "[default: the model's training clip length]")
    ap.add_argument("--threads", type=int, default=None, help="inference threads for the events")
    ap.add_argument("--batch", type=int, default=8, help="clips per batch for the clip score [8]")
    ap.add_argument("--workers", type=int, default=0, help="clip-decoding workers [0]")
    ap.add_argument("--json", action="store_true", help="print the metrics as JSON")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    from lcr_edge.errors import LCRError

    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    command = shlex.join(["python", "benchmarks/real_clips.py", *argv])
    if args.data is None:
        named = os.environ.get(DATA_VARIABLE, "")
        if not named or not Path(named).is_dir():
            where = f"{DATA_VARIABLE}={named} is not a folder" if named else f"{DATA_VARIABLE} is not set"
            print(f"error: no real-clip folder found ({where}): pass --data DIR (a folder of "
                  "clips in the Jester layout)", file=sys.stderr)
            return 2
        args.data = Path(named).resolve()
    if not args.json:
        print(f"$ {command}")
        print(f"model: {Path(args.model).resolve()}")
        print(f"data:  {Path(args.data).resolve()} ({args.split} split)", flush=True)
    try:
        report = benchmark(args, command, quiet=args.json)
    except LCRError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        if exc.name in ("torch", "openvino", "onnxruntime", "matplotlib", "tqdm"):
            print(f"error: this benchmark needs {exc.name}: pip install 'lcr-edge[all]'",
                  file=sys.stderr)
            return 2
        raise
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
