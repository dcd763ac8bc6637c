"""Choose event rules for a model on tuning streams, and write them as a profile.

    python benchmarks/tune_events.py --model exports/stream --out stream.toml
    python benchmarks/tune_events.py --model M --seed 3000 --streams 6 --styles default new-user

A model trained to stream answers in a shorter window than the two lanes of a clip-trained one,
so the media profile's rules (an average over 3 frames above 0.6 for 2 frames in a row) can fire
too little for it. This renders `--streams` streams a style from `--seed` (gestures, "Doing other
things", `--long-idle` 30-40 s idle stretches), runs the model over each once, then scores every
rule of a grid on the cached answers: `window` (frames averaged), `min_frames` (frames in a row
above the threshold) and `threshold` (`--static-margin` higher for the static Stop Sign and
Shaking Hand, as the media profile does). Rules are ranked by the sum over styles of event
accuracy minus false fires per idle minute; the best go into a copy of the media profile
(`--out`), for `lcr-edge run/app/eval --stream --profile`.

Tune on a seed the evaluation never uses: the figures to report come from `lcr-edge eval --stream
--profile OUT` on another seed (1000 in the docs), not from this table.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STATIC = ("Stop Sign", "Shaking Hand")  # poses that stand still: asked for more confidence


def rules(base, window: int, min_frames: int, threshold: float, margin: float):
    """`base` (a profile's EventConfig) with these three settings and the static poses' margin."""
    import dataclasses

    return dataclasses.replace(base, window=window, min_frames=min_frames, threshold=threshold,
                               thresholds={g: round(min(1.0, threshold + margin), 3) for g in STATIC})


def profile_text(media: str, window: int, min_frames: int, threshold: float, margin: float,
                 note: str) -> str:
    """The media profile's text with the chosen rules in its [events] table."""
    out = re.sub(r"(?m)^window = \d+", f"window = {window}", media, count=1)
    out = re.sub(r"(?m)^min_frames = \d+", f"min_frames = {min_frames}", out, count=1)
    out = re.sub(r"(?m)^threshold = [0-9.]+", f"threshold = {threshold:g}", out, count=1)
    for g in STATIC:
        out = re.sub(rf'(?m)^"{g}" = [0-9.]+', f'"{g}" = {min(1.0, threshold + margin):g}', out,
                     count=1)
    return f"# {note}\n" + out


def _seconds(x) -> str:
    return "   - " if x is None else f"{x:+.2f} s"


def main(argv=None) -> int:
    from tqdm import tqdm

    from lcr_edge.actions import load_profile, resolve_profile_path
    from lcr_edge.io import atomic_path
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
    ap.add_argument("--out", type=Path, default=None, help="write the best rules as a profile")
    args = ap.parse_args(argv)
    if args.out is not None and args.out.suffix != ".toml":
        ap.error("--out writes a profile: give a .toml file name")

    model_path = args.model or default_model_dir()
    model = StreamModel(model_path, args.backend)
    media = load_profile("media")
    runs = {}
    with tqdm(total=args.streams * len(args.styles), unit="stream", desc="run") as bar:
        for style in args.styles:
            runs[style] = run_streams(model, args.streams, args.gestures, args.seed,
                                      None if style == "default" else style, progress=bar,
                                      long_idle=args.long_idle)
    rows = []
    for w, mf, th in itertools.product(args.windows, args.min_frames, args.thresholds):
        cfg = rules(media.events, w, mf, th, args.static_margin)
        per = {style: summarize(score_runs(model, r, cfg)) for style, r in runs.items()}
        score = sum(p["event_accuracy"] - p["false_fires_per_idle_minute"] for p in per.values())
        rows.append((score, w, mf, th, per))
    rows.sort(key=lambda r: -r[0])
    m = media.events
    media_row = next((r for r in rows if (r[1], r[2], r[3]) == (m.window, m.min_frames, m.threshold)),
                     None)
    head = "window min_frames threshold | " + " | ".join(
        f"{s}: events  false/min  latency" for s in args.styles)
    print(f"{model_path}: {args.streams} streams a style, seed {args.seed}, "
          f"{model.frame_rate:g} fps\n{head}")
    for row in rows[:args.top] + ([media_row] if media_row and media_row not in rows[:args.top] else []):
        _, w, mf, th, per = row
        cells = " | ".join(f"{100 * p['event_accuracy']:5.1f} %  {p['false_fires_per_idle_minute']:5.2f}"
                           f"  {_seconds(p['median_latency_s'])}" for p in per.values())
        tag = "   (media profile)" if row is media_row else ""
        print(f"{w:6d} {mf:10d} {th:9.2f} | {cells}{tag}")
    if args.out is not None:
        _, w, mf, th, _ = rows[0]
        text = profile_text(resolve_profile_path("media").read_text(encoding="utf-8"), w, mf, th,
                            args.static_margin,
                            f"Event rules chosen for {model_path} by benchmarks/tune_events.py "
                            f"(seed {args.seed}, {args.streams} streams a style)")
        with atomic_path(args.out) as tmp:
            tmp.write_text(text, encoding="utf-8")
        load_profile(str(args.out))  # it must read back as a valid profile
        print(f"wrote {args.out}: window {w}, min_frames {mf}, threshold {th:g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
