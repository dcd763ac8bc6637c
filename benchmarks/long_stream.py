"""Numerical health of a long stream: N frames through one exported model without a reset.

    python benchmarks/long_stream.py                       # the bundled model, 100,000 frames
    python benchmarks/long_stream.py --model exports/lcr-s --frames 20000 --backend onnxruntime

One state carried for ever (horizon 0, the hardest case: no restarts), on a rendered synthetic
recording of gestures and idle gaps played forwards and backwards in a loop (so the input never
jumps). Every `--every` frames it reads the state (OpenVINO: the stateful request's variable;
ONNX Runtime: the carried array) and prints the largest |logit|, |H|, |C| and |previous patches|
so far; it fails (exit 1) on the first non-finite value. The bounded cell keeps |C| <= 1 and
|H| <= 1 by construction (docs/model.md); this shows the exported INT8 graph keeps it too.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    from lcr_edge.paths import default_model_dir
    from lcr_edge.runtime import Recognizer
    from lcr_edge.training.synth import render_stream

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help="exported folder [bundled]")
    ap.add_argument("--backend", default="openvino", choices=["openvino", "onnxruntime"])
    ap.add_argument("--frames", type=int, default=100_000)
    ap.add_argument("--every", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    model = args.model or default_model_dir()
    rec = Recognizer.open(model, backend=args.backend, threads=args.threads, horizon=0)
    labels = ["Swiping Left", "Thumb Up", "Doing other things", "Stop Sign", "Shaking Hand",
              "Zooming In With Full Hand", "Swiping Right", "Drumming Fingers"]
    images, _ = render_stream(labels, seed=31337)
    prepared = [rec.prepare(img) for img in images]
    loop = prepared + prepared[::-1]  # forwards, then backwards: no jump where it wraps
    print(f"{model}: {rec.precision} {args.backend}, one state for {args.frames} frames "
          f"(a {len(images)}-frame recording looped), no reset")
    worst = {"logit": 0.0, "H": 0.0, "C": 0.0, "prev": 0.0}
    t0 = time.perf_counter()
    for n in range(1, args.frames + 1):
        x, e = loop[n % len(loop)]
        logits = rec.logits_prepared(x, e)
        if not np.isfinite(logits).all():
            print(f"frame {n}: non-finite logits")
            return 1
        worst["logit"] = max(worst["logit"], float(np.abs(logits).max()))
        if n % args.every == 0 or n == args.frames:
            s = rec.current_state()
            if not np.isfinite(s).all():
                print(f"frame {n}: non-finite state")
                return 1
            for k, i in (("H", 0), ("C", 1), ("prev", 2)):
                if i < s.shape[1]:
                    worst[k] = max(worst[k], float(np.abs(s[:, i]).max()))
            rate = n / (time.perf_counter() - t0)
            print(f"frame {n:>7}: max |logit| {worst['logit']:.2f}  |H| {worst['H']:.3f}  "
                  f"|C| {worst['C']:.3f}  |prev| {worst['prev']:.2f}  ({rate:.0f} frames/s)",
                  flush=True)
    print(f"finite for {args.frames} frames; |C| <= 1: {worst['C'] <= 1.0 + 1e-3}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
