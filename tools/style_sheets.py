"""Draw the contact sheet of every synth style knob (docs/img/synth-knobs.png): for each knob, the
same clips with the knob off and on, all other knobs neutral.

    python tools/style_sheets.py [--out docs/img/synth-knobs.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/img/synth-knobs.png")
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args(argv)
    from lcr_edge.training.synth.preview import KNOBS, knob_sheet

    sheets = [knob_sheet(k, "Stop Sign" if k == "overlay" else "Swiping Left", seed=args.seed)
              for k in KNOBS]
    half = (len(sheets) + 1) // 2
    cols = [np.concatenate(sheets[:half], 0), np.concatenate(sheets[half:], 0)]
    tall = max(c.shape[0] for c in cols)
    cols = [cv2.copyMakeBorder(c, 0, tall - c.shape[0], 0, 8, cv2.BORDER_CONSTANT,
                               value=(255, 255, 255)) for c in cols]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(args.out, np.concatenate(cols, 1))
    print(f"wrote {args.out} ({len(KNOBS)} knobs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
