"""What each part of the webcam look buys: the same short training on each synth style, scored on
held-out synthetic sets and on real recorded clips.

    python benchmarks/domain_gap.py                       # styles drawn, scene, webcam, default
    python benchmarks/domain_gap.py --styles drawn default --minutes 5 --clips-per-class 60

For each style: `lcr-edge synth` a set (same seed, size and clip count for every style), `lcr-edge
train` it with configs/bundled-lcr-s.toml for --epochs within --minutes, then `lcr-edge eval` the
best checkpoint on a held-out default-style set and a held-out new-user set (rendered once, seeds
never used in training), and `benchmarks/real_clips.py` on real recorded clips when a folder of
them exists. Prints a table (markdown) and writes OUT/domain-gap.json; a style run again replaces
its own row there and keeps the others, so one new style costs one training. Every set, run and
held-out set is kept in OUT and reused when there: a style with a finished run is scored again,
not retrained, and a set is reused as it was rendered, by whichever renderer made it (after a
renderer change, delete the style's data-, run- and the heldout- folders, or all of OUT). Everything but the
real clips is made here; the real clips are only measured.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

HELD_OUT = {"default": 777, "new-user": 778}  # render seeds of the held-out sets


def sh(cmd: list[str], log: Path) -> None:
    """Run one step of the study, its output into `log`; stop with the log's tail if it fails."""
    print("$", " ".join(cmd), flush=True)
    with open(log, "w") as f:
        rc = subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=REPO)
    if rc:
        tail = log.read_text(errors="replace").splitlines()[-5:]
        raise SystemExit(f"error: {' '.join(cmd[:3])} failed (exit {rc}); {log}:\n" + "\n".join(tail))


def synth(out: Path, style: str, clips: int, seed: int, val: float, log: Path) -> Path:
    if not (out / "jester-v1-train.csv").is_file():
        sh(["lcr-edge", "synth", str(out), "--clips-per-class", str(clips), "--seed", str(seed),
            "--frames", "30-40", "--val-fraction", str(val), "--style", style, "--overwrite"], log)
    return out


def clip_top1(model: Path, data: Path, out: Path, log: Path) -> float:
    sh(["lcr-edge", "eval", "--model", str(model), "--data", str(data), "--out", str(out)], log)
    return 100 * json.loads((out / "metrics.json").read_text())["top1_paper"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--styles", nargs="+", default=["drawn", "scene", "webcam", "default"])
    ap.add_argument("--clips-per-class", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--minutes", type=float, default=10.0, help="training budget per style")
    ap.add_argument("--seed", type=int, default=21, help="render seed of the training sets")
    ap.add_argument("--real", default=os.environ.get("LCR_REAL_CLIPS", ""),
                    help="folder of real clips in the Jester layout [default: $LCR_REAL_CLIPS; "
                         "skipped when missing]")
    ap.add_argument("--out", default="runs/domain-gap")
    args = ap.parse_args(argv)
    out = REPO / args.out
    (out / "logs").mkdir(parents=True, exist_ok=True)
    held = {name: synth(out / f"heldout-{name}", name, 21, seed, 0.95, out / "logs" / f"h-{name}.log")
            for name, seed in HELD_OUT.items()}
    real = Path(args.real)
    table = out / "domain-gap.json"
    rows = json.loads(table.read_text()) if table.is_file() else []
    for style in args.styles:
        t0 = time.time()
        data = synth(out / f"data-{style}", style, args.clips_per_class, args.seed, 0.1,
                     out / "logs" / f"synth-{style}.log")
        run = out / f"run-{style}"
        before = next((r for r in rows if r["style"] == style), {})
        if before and (run / "best.pt").is_file():  # trained and scored before: score it again
            minutes = before.get("train_minutes")
        elif run.exists():
            raise SystemExit(f"error: {run} is left from a study that did not finish; delete it "
                             f"to train style {style!r} again")
        else:
            sh(["lcr-edge", "train", "--config", "configs/bundled-lcr-s.toml", "--data", str(data),
                "--out", str(run), "--epochs", str(args.epochs), "--max-minutes", str(args.minutes)],
               out / "logs" / f"train-{style}.log")
            minutes = round((time.time() - t0) / 60, 1)
        ckpt = run / "best.pt"
        row = {"style": style, "train_minutes": minutes}
        for name, data_dir in held.items():
            row[f"{name}_top1"] = round(clip_top1(ckpt, data_dir, out / f"eval-{style}-{name}",
                                                  out / "logs" / f"eval-{style}-{name}.log"), 1)
        if (real / "jester-v1-labels.csv").is_file():
            log = out / "logs" / f"real-{style}.log"
            sh([sys.executable, "benchmarks/real_clips.py", "--model", str(ckpt), "--data", str(real),
                "--out", str(out / f"real-{style}")], log)
            rep = json.loads((out / f"real-{style}" / "metrics.json").read_text())
            row["real_top1"] = round(100 * rep["top1_paper"], 1)
            row["real_top5"] = round(100 * rep["top5_paper"], 1)
        rows = [r for r in rows if r["style"] != style] + [row]
        table.write_text(json.dumps(rows, indent=1) + "\n")
    cols = ["style", "default_top1", "new-user_top1", "real_top1", "real_top5", "train_minutes"]
    print("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r.get(c, "-")) for c in cols) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
