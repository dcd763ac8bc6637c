"""Copy a quantized export into the package as the bundled default model (lcr_edge/assets/model).

Keeps the INT8 files a user's machine runs (the stateful OpenVINO IR and the INT8 ONNX), the FP32
checkpoint.pt the export was made from (what `lcr-edge finetune` starts from without --model, and
the torch backend runs) and their model.json, with the files list cut to those and a `bundled`
section saying where the model comes from and what it measured: the training command, the data
seed, clip and event accuracy on held-out synthetic data. The measurements are read from JSON
files written by `lcr-edge eval --json` (clip) and `lcr-edge eval --stream --json` (events), never
typed in. An export without checkpoint.pt is refused. The bundle is written into a `.partial`
folder beside the target and renamed into place only when complete.

    python tools/bundle_model.py exports/bundled --clip-eval clip.json --stream-eval stream.json \
        --train-command "lcr-edge train ..." --data-command "lcr-edge synth ..."
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

KEEP = {"int8": ("onnx", "openvino_stateful")}


def bundle(export: Path, out: Path, bundled: dict) -> dict:
    from lcr_edge.artifact import CHECKPOINT, METADATA, file_entry, model_file, read_metadata
    from lcr_edge.errors import LCRError
    from lcr_edge.io import atomic_path

    meta = read_metadata(export)
    files = {}
    for precision, kinds in KEEP.items():
        for kind in kinds:
            model_file(export, meta, precision, kind)  # present and as hashed, or it stops here
            files.setdefault(precision, {})[kind] = meta["files"][precision][kind]
    if not (export / CHECKPOINT).is_file():
        raise LCRError(f"{export}: no {CHECKPOINT} (the FP32 checkpoint the export was made "
                       f"from); the bundle needs it so that `lcr-edge finetune` can start from "
                       f"the bundled model: bundle a folder written by `lcr-edge quantize`")
    if meta["files"].get("torch", {}).get("checkpoint"):  # listed: it must be the one hashed
        model_file(export, {"files": {"fp32": meta["files"]["torch"]}}, "fp32", "checkpoint")
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for kinds in files.values():
        for entry in kinds.values():
            for e in (entry, entry.get("bin")):
                if e:
                    shutil.copy2(export / e["path"], tmp / e["path"])
    shutil.copy2(export / CHECKPOINT, tmp / CHECKPOINT)
    files["torch"] = {"checkpoint": file_entry(tmp, CHECKPOINT)}  # hashed as copied
    meta = {**meta, "files": files, "bundled": bundled}
    meta.pop("source_checkpoint", None)  # a path on the machine that trained it
    with atomic_path(tmp / METADATA) as t:
        t.write_text(json.dumps(meta, indent=1) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return meta


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("export", type=Path, help="folder written by `lcr-edge quantize`")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1]
                    / "lcr_edge" / "assets" / "model")
    ap.add_argument("--clip-eval", type=Path, required=True, help="`lcr-edge eval --json` output")
    ap.add_argument("--stream-eval", type=Path, required=True,
                    help="`lcr-edge eval --stream --json` output")
    ap.add_argument("--train-command", required=True)
    ap.add_argument("--data-command", required=True)
    ap.add_argument("--eval-commands", nargs="*", default=[])
    ap.add_argument("--new-user-eval", type=Path, help="`lcr-edge eval --json` on a new-user set")
    ap.add_argument("--real-eval", type=Path,
                    help="metrics.json of `benchmarks/real_clips.py` (real recorded clips)")
    args = ap.parse_args(argv)
    clip = json.loads(args.clip_eval.read_text())
    stream = json.loads(args.stream_eval.read_text())
    stream.pop("per_stream", None)
    bundled = {
        "trained_on": "synthetic webcam-like gestures (lcr-edge synth), not Jester and no real "
                      "hands: see real_clips for how it does on real people; fine-tune on your "
                      "own clips (lcr-edge finetune) or train on Jester for more",
        "data_command": args.data_command,
        "train_command": args.train_command,
        "eval_commands": args.eval_commands,
        "held_out_clip": {k: clip[k] for k in ("clips", "top1_paper", "top5_paper", "top1_last",
                                               "top5_last", "paper_window") if k in clip},
        "held_out_stream": stream,
    }
    keys = ("clips", "top1_paper", "top5_paper", "top1_last", "top5_last")
    if args.new_user_eval:
        nu = json.loads(args.new_user_eval.read_text())
        bundled["held_out_clip_new_user"] = {k: nu[k] for k in keys if k in nu}
    if args.real_eval:
        real = json.loads(args.real_eval.read_text())
        bundled["real_clips"] = {**{k: real[k] for k in keys if k in real},
                                 "events": real.get("event_summary")}
    from lcr_edge.errors import LCRError

    try:
        meta = bundle(args.export, args.out, bundled)
    except LCRError as exc:
        sys.exit(f"error: {exc}")
    size = sum(f.stat().st_size for f in args.out.iterdir())
    print(f"{args.out}: {', '.join(f'{p}/{k}' for p, ks in meta['files'].items() for k in ks)}, "
          f"{size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
