"""Does one state carried for ever forget? A fresh state against a long-running one, same frames.

    python benchmarks/forgetting.py                         # the bundled model
    python benchmarks/forgetting.py --model exports/stream --history 10000 --probes 20

The old recognizer first runs `--history` model frames (a rendered recording of gestures and idle
gaps looped forwards and backwards, at the model's frame rate) with one state and no reset. Then a
second recording starts (another scene, other gestures) and, at each of `--probes` points in it, a
fresh recognizer starts beside the old one; both get the same frames. After `--settle` seconds the
two should answer alike: the script prints how often their top classes agree from then on (over
`--window` seconds a probe) and, for contrast, during the first `--settle` seconds. A model whose
state never forgets what it saw before keeps disagreeing; one that forgets converges.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    from lcr_edge.labels import JESTER_FPS
    from lcr_edge.paths import default_model_dir
    from lcr_edge.runtime import Recognizer
    from lcr_edge.training.synth import render_stream

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help="exported folder [bundled]")
    ap.add_argument("--backend", default="openvino", choices=["openvino", "onnxruntime"])
    ap.add_argument("--history", type=int, default=10_000, help="model frames the old state has seen")
    ap.add_argument("--probes", type=int, default=20)
    ap.add_argument("--settle", type=float, default=2.0, help="seconds before agreement counts")
    ap.add_argument("--window", type=float, default=10.0, help="seconds compared a probe")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=4242)
    args = ap.parse_args(argv)
    model = args.model or default_model_dir()
    old = Recognizer.open(model, backend=args.backend, threads=args.threads, horizon=0)
    rate = old.frame_rate
    every = max(1, int(round(JESTER_FPS / rate)))  # rendered at 12 fps, fed at the model's rate
    settle, window = int(round(args.settle * rate)), int(round(args.window * rate))

    gestures = ["Swiping Left", "Thumb Up", "Doing other things", "Stop Sign", "Shaking Hand",
                "Zooming In With Full Hand", "Swiping Right", "Drumming Fingers"]
    past, _ = render_stream(gestures, seed=args.seed)
    past = [old.prepare(img) for img in past[::every]]
    loop = past + past[::-1]
    rng = np.random.default_rng(args.seed)
    test_labels = [str(g) for g in rng.choice(gestures + ["Swiping Down", "Thumb Down"], 24)]
    test, _ = render_stream(test_labels, seed=args.seed + 1)
    test = [old.prepare(img) for img in test[::every]]
    span = len(test) - window - settle
    if span < args.probes:
        print(f"the test recording ({len(test)} model frames) is too short for {args.probes} probes")
        return 1
    starts = np.linspace(0, span - 1, args.probes).round().astype(int)
    print(f"{model}: {old.precision} {args.backend} at {rate:g} fps; old state: {args.history} "
          f"frames ({args.history / rate / 60:.0f} min) of history; {args.probes} fresh starts in a "
          f"new {len(test) / rate / 60:.1f} min recording, compared {args.window:g} s each after "
          f"{args.settle:g} s")
    t0 = time.perf_counter()
    for n in range(args.history):
        old.logits_prepared(*loop[n % len(loop)])
    old_top = np.array([int(np.argmax(old.logits_prepared(*xe))) for xe in test])
    early, late = [], []
    fresh = Recognizer.open(model, backend=args.backend, threads=args.threads, horizon=0)
    for s in starts:
        fresh.reset()  # a zero state, as a newly opened recognizer has
        top = np.array([int(np.argmax(fresh.logits_prepared(*xe)))
                        for xe in test[s:s + settle + window]])
        agree = top == old_top[s:s + settle + window]
        early.append(agree[:settle].mean())
        late.append(agree[settle:].mean())
    late_pct, early_pct = 100 * float(np.mean(late)), 100 * float(np.mean(early))
    print(f"top class agrees {late_pct:.1f} % of frames after {args.settle:g} s (worst probe "
          f"{100 * min(late):.0f} %); {early_pct:.1f} % in the first {args.settle:g} s "
          f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
