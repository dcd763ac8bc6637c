"""Choose event rules for a model on tuning streams, and write them into its model.json.

    python benchmarks/tune_events.py --model exports/stream --write
    python benchmarks/tune_events.py --model M --seed 3000 --streams 6 --styles default new-user

A model trained to stream answers in a shorter window than the two lanes of a clip-trained one,
so the default rules (an average over 3 frames above 0.6 for 2 frames in a row) can fire too
little for it. This renders `--streams` streams a style from `--seed` (gestures, "Doing other
things", `--long-idle` 30-40 s idle stretches), runs the model over each once, then scores every
rule of a grid on the cached answers: `window` (frames averaged), `min_frames` (frames in a row
above the threshold) and `threshold` (`--static-margin` higher for the static Stop Sign and
Shaking Hand). Rules are ranked by the sum over styles of event accuracy minus false fires per
idle minute. `--write` stores the best as the model's own rules (model.json `events`, with how
they were chosen under `events_tuned`): `lcr-edge run`, `app`, `bench` and `eval --stream` then
use them under any profile that does not set them itself.

Tune on a seed the evaluation never uses: the figures to report come from `lcr-edge eval --stream`
on another seed (1000 in the docs), not from this table.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STATIC = ("Stop Sign", "Shaking Hand")  # poses that stand still: asked for more confidence


def model_table(window: int, min_frames: int, threshold: float, margin: float,
                labels=STATIC) -> dict:
    """The rules as a model.json `events` table (the static poses among `labels` a margin up)."""
    return {"window": window, "min_frames": min_frames, "threshold": threshold,
            "thresholds": {g: round(min(1.0, threshold + margin), 3) for g in STATIC if g in labels}}


def rules(base, window: int, min_frames: int, threshold: float, margin: float, labels=STATIC):
    """`base` (an EventConfig) with these rules in place of its own."""
    import dataclasses

    return dataclasses.replace(base, **model_table(window, min_frames, threshold, margin, labels))


def _seconds(x) -> str:
    return "   - " if x is None else f"{x:+.2f} s"


def main(argv=None) -> int:
    from tqdm import tqdm

    from lcr_edge import artifact
    from lcr_edge.actions import profile_for
    from lcr_edge.errors import LCRError
    from lcr_edge.events import check_model_rules
    from lcr_edge.io import write_json
    from lcr_edge.paths import default_model_dir
    from lcr_edge.training.stream_eval import StreamModel, run_streams, score_runs, summarize

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help="checkpoint or exported folder [bundled]")
    ap.add_argument("--seed", type=int, default=3000, help="tuning seed (never the evaluation's)")
    ap.add_argument("--streams", type=int, default=6, help="streams a style")
    ap.add_argument("--gestures", type=int, default=10, help="gestures a stream")
    ap.add_argument("--styles", nargs="+", default=["default", "new-user"])
    ap.add_argument("--long-idle", type=float, default=0.3)
    ap.add_argument("--windows", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--min-frames", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--thresholds", type=float, nargs="+",
                    default=[0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6])
    ap.add_argument("--static-margin", type=float, default=0.1)
    ap.add_argument("--backend", default="openvino", choices=["openvino", "onnxruntime"])
    ap.add_argument("--top", type=int, default=10, help="rows of the ranking to print")
    ap.add_argument("--write", action="store_true",
                    help="store the best rules in the model's model.json (an exported folder)")
    args = ap.parse_args(argv)

    model_path = Path(args.model or default_model_dir())
    if args.write:
        if not model_path.is_dir():
            raise LCRError(f"{model_path}: --write stores the rules in an exported folder's "
                           f"model.json; export the checkpoint first (lcr-edge export)")
        meta = artifact.read_metadata(model_path)  # a broken folder fails before the long part
    model = StreamModel(model_path, args.backend)
    current = profile_for(model).events  # what `lcr-edge run` uses for it now (media profile)
    runs = {}
    with tqdm(total=args.streams * len(args.styles), unit="stream", desc="run") as bar:
        for style in args.styles:
            runs[style] = run_streams(model, args.streams, args.gestures, args.seed,
                                      None if style == "default" else style, progress=bar,
                                      long_idle=args.long_idle)
    rows = []
    for w, mf, th in itertools.product(args.windows, args.min_frames, args.thresholds):
        cfg = rules(current, w, mf, th, args.static_margin, model.labels)
        per = {style: summarize(score_runs(model, r, cfg)) for style, r in runs.items()}
        score = sum(p["event_accuracy"] - p["false_fires_per_idle_minute"] for p in per.values())
        rows.append((score, w, mf, th, per))
    rows.sort(key=lambda r: -r[0])
    now = (current.window, current.min_frames, current.threshold)
    current_row = next((r for r in rows if (r[1], r[2], r[3]) == now), None)
    head = "window min_frames threshold | " + " | ".join(
        f"{s}: events  false/min  latency" for s in args.styles)
    print(f"{model_path}: {args.streams} streams a style, seed {args.seed}, "
          f"{model.frame_rate:g} fps\n{head}")
    for row in rows[:args.top] + ([current_row] if current_row and current_row not in rows[:args.top]
                                  else []):
        _, w, mf, th, per = row
        cells = " | ".join(f"{100 * p['event_accuracy']:5.1f} %  {p['false_fires_per_idle_minute']:5.2f}"
                           f"  {_seconds(p['median_latency_s'])}" for p in per.values())
        tag = "   (its rules now)" if row is current_row else ""
        print(f"{w:6d} {mf:10d} {th:9.2f} | {cells}{tag}")
    if args.write:
        score, w, mf, th, per = rows[0]
        meta["events"] = check_model_rules(model_table(w, mf, th, args.static_margin, model.labels))
        meta["events_tuned"] = {
            "command": "python benchmarks/tune_events.py " + " ".join(argv or sys.argv[1:]),
            "seed": args.seed, "streams_a_style": args.streams, "gestures": args.gestures,
            "long_idle": args.long_idle,
            "event_accuracy": {s: round(p["event_accuracy"], 4) for s, p in per.items()},
            "false_fires_per_idle_minute": {s: round(p["false_fires_per_idle_minute"], 4)
                                            for s, p in per.items()}}
        write_json(model_path / artifact.METADATA, meta)
        artifact.read_metadata(model_path)  # it must read back as valid metadata
        print(f"wrote {model_path / artifact.METADATA}: events window {w}, min_frames {mf}, "
              f"threshold {th:g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
