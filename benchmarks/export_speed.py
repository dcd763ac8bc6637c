"""Speed of the exported models, random weights (speed does not depend on training):

    python benchmarks/export_speed.py [--variants lcr-s lcr] [--threads 2] [--frames 500]

For each variant: a random-weight checkpoint (as `lcr-edge train` builds it), `quantize_model`
with post-training INT8 calibrated on noise (no dataset needed), then `lcr-edge bench` on the
folder (all backends, FP32 and INT8), plus OpenVINO's benchmark_app on the stateless IRs. Folders
land in runs/export-speed/<variant>. Run it on a quiet machine (`uptime`): the load average is
printed with the results."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from lcr_edge.model.checkpoint import load_checkpoint
from lcr_edge.quantize.pipeline import QuantizeConfig, quantize_model

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
import tiny_models as testing  # noqa: E402  (random-weight checkpoints: the tests' helpers)


def build(variant: str, out: Path) -> Path:
    folder = out / variant
    if (folder / "model.json").is_file():
        return folder
    # the architecture `lcr-edge train` builds by default (conv stem, frame difference, max head)
    ckpt_path = testing.tiny_checkpoint(out / f"{variant}.pt", variant, num_classes=27, stem="conv",
                                        motion="diff", head="max")
    model, ckpt = load_checkpoint(ckpt_path)
    batches = testing.random_batches(n=4, batch=2, frames=16, classes=27)
    quantize_model(model, ckpt, ckpt_path, folder, batches, None,
                   QuantizeConfig(epochs=0, calibration=64), log=print)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--variants", nargs="+", default=["lcr-s", "lcr"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--frames", type=int, default=500)
    ap.add_argument("--out", type=Path, default=Path("runs/export-speed"))
    args = ap.parse_args()
    for variant in args.variants:
        folder = build(variant, args.out)
        subprocess.run([sys.executable, "-m", "lcr_edge", "bench", "--model", str(folder),
                        "--threads", str(args.threads), "--frames", str(args.frames),
                        "--benchmark-app"], check=True)


if __name__ == "__main__":
    main()
