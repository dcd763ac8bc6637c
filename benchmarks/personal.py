"""Personal-gesture acceptance: a simulated user fine-tunes the base model in a few CPU minutes.

The user is the synthetic renderer in an appearance the base model never saw (style `new-user`:
other skin tones, an office background, camera noise; seeds disjoint from training). They record
5 clips of each of 6 gestures, 2 of them names the base does not know, through the same
`RecordingSet` that `lcr-edge record` writes with; `lcr-edge finetune`'s code adapts the base
within the budget and exports INT8; then 20 new clips per gesture from the same user measure it.

    python benchmarks/personal.py --base runs/accept/best.pt                  # the acceptance run
    python benchmarks/personal.py --base ... --compare head,last,all --minutes 3 --no-export

Prints per strategy: steps, training seconds, held-out (finetune's own 1-per-gesture hold-out)
and test top-1 (20 clips per gesture, paper score) for FP32 (PyTorch) and INT8 (the exported
OpenVINO stateful file), plus the base model's accuracy on the known gestures' test clips.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

KNOWN = ["Swiping Left", "Swiping Right", "Thumb Up", "Stop Sign"]
NEW = ["Drawing Circle", "Waving Hello"]


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def make_sets(root: Path, clips: int, test: int, seed: int, style: str, frames: int):
    """The user's recordings (RecordingSet, as `lcr-edge record`) and a Jester-layout test set."""
    from lcr_edge.recording import RecordingSet
    from lcr_edge.training.synth import render_clip

    user, test_dir = root / "user", root / "test"
    for d in (user, test_dir):
        shutil.rmtree(d, ignore_errors=True)
    rs = RecordingSet.open(user)
    gestures = KNOWN + NEW
    for g in gestures:
        for k in range(clips):
            rs.add_clip(g, render_clip(g, seed=seed * 100_000 + k, frames=frames, style=style))
    ts = RecordingSet.open(test_dir)
    for g in gestures:
        for k in range(test):
            ts.add_clip(g, render_clip(g, seed=seed * 100_000 + 50_000 + k, frames=frames,
                                       style=style))
    return user, test_dir


def test_loader(test_dir: Path, labels: list[str], sampling: dict):
    """The test set with the model's label order and sampling (no augmentation)."""
    from lcr_edge.training.data import Clip, ClipDataset, Sampling, jester_clips, make_loader

    clips, found = jester_clips(test_dir, "train")
    clips = [Clip(c.key, labels.index(found[c.label]), c.frames_dir) for c in clips
             if found[c.label] in labels]
    ds = ClipDataset(clips, labels, Sampling(sampling["frames"], sampling["stride"], 12.0))
    return make_loader(ds, batch_size=8, workers=0)


def evaluate_artifact(out: Path, test_dir: Path) -> dict:
    """Test top-1 of the exported files (FP32 PyTorch checkpoint and INT8 OpenVINO stateful)."""
    from lcr_edge.model.checkpoint import load_checkpoint
    from lcr_edge.runtime import open_backend
    from lcr_edge.training.evaluate import backend_probs, forward_probs, predict

    meta = json.loads((out / "model.json").read_text())
    model, ckpt = load_checkpoint(out / "checkpoint.pt")
    loader = test_loader(test_dir, meta["labels"], ckpt["sampling"])
    res = predict(forward_probs(model), loader)
    m = res.metrics()
    per = {k: round(100 * v) for k, v in m["per_class"].items()}
    row = {"fp32": round(100 * m["top1_paper"], 2), "clips": m["clips"], "per_class_fp32": per}
    if "int8" in meta["files"]:
        int8 = predict(backend_probs(open_backend(out, "openvino", "int8")), loader)
        row["int8_openvino"] = int8.summary()["top1"]
        row["int8_vs_fp32_clip_agreement"] = round(100 * float(
            (int8.scores().argmax(-1) == res.scores().argmax(-1)).mean()), 1)
    return row


def base_accuracy(base: Path, test_dir: Path) -> dict:
    """The base model on the user's test clips of the gestures it knows (all of its classes)."""
    from lcr_edge.model.checkpoint import load_checkpoint
    from lcr_edge.training.evaluate import forward_probs, predict

    model, ckpt = load_checkpoint(base)
    labels = list(ckpt["labels"])
    samp = ckpt.get("sampling") or {"frames": 32, "stride": 1}
    m = predict(forward_probs(model), test_loader(test_dir, labels, samp)).metrics()
    return {"top1": round(100 * m["top1_paper"], 2), "clips": m["clips"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--base", required=True, help="base checkpoint (.pt) or exported folder")
    ap.add_argument("--work", default="/tmp/lcr-personal-bench")
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--compare", default="all", help="strategies to run, comma-separated")
    ap.add_argument("--clips", type=int, default=5, help="recorded clips per gesture")
    ap.add_argument("--test", type=int, default=20, help="test clips per gesture")
    ap.add_argument("--frames", type=int, default=36, help="frames per recorded clip (3 s)")
    ap.add_argument("--seed", type=int, default=7, help="the simulated user (base used 0)")
    ap.add_argument("--style", default="new-user")
    ap.add_argument("--no-export", action="store_true", help="skip INT8 export (comparisons)")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()

    from lcr_edge.quantize.pipeline import finetune_and_export
    from lcr_edge.training.finetune import FinetuneConfig, resolve_base

    work = Path(args.work)
    t0 = time.perf_counter()
    user, test_dir = make_sets(work, args.clips, args.test, args.seed, args.style, args.frames)
    print(f"simulated user: style {args.style!r}, seed {args.seed}: {args.clips} clips x "
          f"{len(KNOWN + NEW)} gestures ({', '.join(NEW)} new); test {args.test} x "
          f"{len(KNOWN + NEW)} ({time.perf_counter() - t0:.0f} s to render)")
    base = resolve_base(args.base)
    print(f"base {base} on the user's test clips of its known gestures: "
          f"{base_accuracy(base, test_dir)}")
    print(f"load before: {uptime()}")
    rows = []
    for strategy in args.compare.split(","):
        out = work / f"out-{strategy}"
        cfg = FinetuneConfig(model=str(base), data=str(user), out=str(out), minutes=args.minutes,
                             train=strategy, export=not args.no_export, threads=args.threads)
        rep = finetune_and_export(cfg, log=lambda *a: print("  ", *a))
        row = {"train": strategy, "steps": rep["steps"], "train_s": rep["train_seconds"],
               "held_out_before": rep["held_out_before"].get("top1"),
               "held_out_after": rep["held_out_after"].get("top1"),
               "export_s": rep.get("export", {}).get("seconds")}
        if not args.no_export:
            row["test"] = evaluate_artifact(out, test_dir)
        else:
            from lcr_edge.model.checkpoint import load_checkpoint
            from lcr_edge.training.evaluate import forward_probs, predict

            model, ckpt = load_checkpoint(out / "finetuned.pt")
            m = predict(forward_probs(model), test_loader(test_dir, ckpt["labels"],
                                                          ckpt["sampling"])).metrics()
            row["test"] = {"fp32": round(100 * m["top1_paper"], 2), "clips": m["clips"],
                           "per_class_fp32": {k: round(100 * v) for k, v in m["per_class"].items()}}
        rows.append(row)
        print(json.dumps(row))
        print(f"load after {strategy}: {uptime()}")
    print(f"\n{'train':<6} {'steps':>6} {'train s':>8} {'held-out before/after':>22} "
          f"{'test FP32 %':>12} {'test INT8 %':>12}")
    for r in rows:
        t = r["test"]
        print(f"{r['train']:<6} {r['steps']:>6} {r['train_s']:>8.0f} "
              f"{str(r['held_out_before']) + ' / ' + str(r['held_out_after']):>22} "
              f"{t['fp32']:>12.1f} {str(t.get('int8_openvino', '-')):>12}")
    print(f"({args.test} test clips per gesture; paper clip score; {os.cpu_count()} CPUs; "
          f"total {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
