"""Learnability probe: how fast does a model learn a synthetic set held in memory?

Written while LCR-S on RGB frames was far from its target (85 % in 30 CPU minutes, docs/training.md);
this probe separates "the data is hard" from "the model learns slowly" by training LCR-S and a small
3D CNN baseline on exactly the same cached frames (no loader, no augmentation), optionally on the
first N classes only.

    lcr-edge synth data/synth80 --clips-per-class 80 --seed 0
    python benchmarks/learning_probe.py cache data/synth80 data/synth80_8x4.pt --frames 8 --stride 4
    python benchmarks/learning_probe.py run data/synth80_8x4.pt --model lcr-s --classes 6 --steps 150
    python benchmarks/learning_probe.py run data/synth80_8x4.pt --model cnn --pool max --classes 6
    python benchmarks/learning_probe.py run data/synth80_8x4.pt --pool max --input diff --classes 6
    python benchmarks/learning_probe.py run data/synth80_8x4.pt --pool max --motion diff --classes 6

It prints the mean training loss and the validation top-1 (last frame) every --eval-every steps.
Results on the 2-core box are in docs/training.md and docs/model.md (departure 4). `--input diff`
feeds differences from outside the model; `--motion diff` is the model's own (LCRConfig.motion).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn as nn


def cache(root: str, out: str, frames: int, stride: int) -> None:
    """Decode and preprocess both splits once (centred sampling) into uint8 tensors."""
    from lcr_edge.training.data import ClipDataset

    res = {}
    for split in ("train", "validation"):
        t0 = time.time()
        ds = ClipDataset.from_dir(root, split, frames=frames, stride=stride, train=False)
        S = ds.preprocess.size
        X = torch.empty(len(ds), frames, 3, S, S, dtype=torch.uint8)
        E = torch.empty(len(ds), frames, 1, S, S, dtype=torch.uint8)
        Y = torch.empty(len(ds), dtype=torch.long)
        mean, std = torch.tensor(ds.preprocess.mean), torch.tensor(ds.preprocess.std)
        for i in range(len(ds)):
            x, e, y, _ = ds[i]
            x = x * std[:, None, None] + mean[:, None, None]  # back to [0, 1]
            X[i] = (x * 255).round().clamp(0, 255).to(torch.uint8)
            E[i], Y[i] = e.to(torch.uint8), y
        res[split] = (X, E, Y)
        print(f"{split}: {tuple(X.shape)} in {time.time() - t0:.0f} s", flush=True)
    res["norm"] = (mean, std)
    torch.save(res, out)


def cnn_baseline(classes: int, pool: str) -> nn.Module:
    """Four 3D convolutions (BatchNorm, ReLU) over RGB + edges, pooled over space and time."""
    widths, layers = [4, 32, 64, 96, 128], []
    for i, (k, s) in enumerate([((3, 5, 5), (1, 2, 2)), (3, (1, 2, 2)), (3, 2), (3, 2)]):
        pad = tuple(x // 2 for x in k) if isinstance(k, tuple) else 1
        layers += [nn.Conv3d(widths[i], widths[i + 1], k, stride=s, padding=pad),
                   nn.BatchNorm3d(widths[i + 1]), nn.ReLU()]
    layers += [nn.AdaptiveMaxPool3d(1) if pool == "max" else nn.AdaptiveAvgPool3d(1), nn.Flatten(),
               nn.Linear(128, classes)]
    return nn.Sequential(*layers)


def run(a) -> None:
    from lcr_edge.model import create_model
    from lcr_edge.training.loop import clip_loss

    torch.manual_seed(a.seed)
    d = torch.load(a.cache, weights_only=True)
    (X, E, Y), (Xv, Ev, Yv) = d["train"], d["validation"]
    mean, std = (t[:, None, None] for t in d["norm"])
    keep, keep_v = Y < a.classes, Yv < a.classes
    X, E, Y, Xv, Ev, Yv = X[keep], E[keep], Y[keep], Xv[keep_v], Ev[keep_v], Yv[keep_v]
    idx = torch.linspace(0, X.shape[1] - 1, a.frames).round().long()

    def prep(x, e):
        x, e = (x[:, idx].float() / 255 - mean) / std, e[:, idx].float()
        if a.input == "diff":  # x_t - x_{t-1}, zeros for the first frame; edges as they are
            x = torch.cat([torch.zeros_like(x[:, :1]), x[:, 1:] - x[:, :-1]], 1)
        return x, e

    if a.model == "cnn":
        net = cnn_baseline(a.classes, a.pool)

        def logits(x, e):  # one clip score, repeated so the loss below reads the same
            return net(torch.cat([x, e], 2).transpose(1, 2))[:, None].expand(-1, a.last, -1)
    else:
        net = create_model(a.model, num_classes=a.classes, head=a.pool, cell=a.cell, motion=a.motion,
                           stem="patch")  # the stem docs/model.md measured the probe with
        logits = net
    print(f"{a.model}: {sum(p.numel() for p in net.parameters()) / 1e6:.3f} M params, "
          f"{len(Y)} train / {len(Yv)} val clips, {a.classes} classes", flush=True)
    opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=0.05)
    g = torch.Generator().manual_seed(a.seed + 1)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=not a.fp32)
    losses, t0 = [], time.time()
    for s in range(a.steps):
        b = torch.randint(0, len(Y), (a.batch,), generator=g)
        for group in opt.param_groups:
            group["lr"] = a.lr * min(1.0, (s + 1) / 20)
        x, e = prep(X[b], E[b])
        with autocast:
            out = logits(x, e)
        loss = clip_loss(out, Y[b], a.last, smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        if (s + 1) % a.eval_every == 0:
            net.eval()
            right = 0
            with torch.no_grad(), autocast:
                for i in range(0, len(Yv), 64):
                    x, e = prep(Xv[i:i + 64], Ev[i:i + 64])
                    right += (logits(x, e)[:, -1].argmax(-1) == Yv[i:i + 64]).sum().item()
            net.train()
            print(f"step {s + 1}: loss {np.mean(losses[-a.eval_every:]):.3f} "
                  f"val {right / len(Yv):.3f} ({time.time() - t0:.0f} s)", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="verb", required=True)
    c = sub.add_parser("cache", help="decode a synthetic (Jester-layout) set into a tensor file")
    c.add_argument("root")
    c.add_argument("out")
    c.add_argument("--frames", type=int, default=8)
    c.add_argument("--stride", type=int, default=4)
    r = sub.add_parser("run", help="train on a cached set and print validation top-1")
    r.add_argument("cache")
    r.add_argument("--model", default="lcr-s", help="an LCR variant, or 'cnn' for the 3D CNN baseline")
    r.add_argument("--pool", default="mean", help="LCR: mean|cls|max head; cnn: mean|max pooling")
    r.add_argument("--motion", default="none", choices=["none", "diff"],
                   help="LCR only: the model's motion input (LCRConfig.motion)")
    r.add_argument("--input", default="rgb", choices=["rgb", "diff"],
                   help="diff: feed frame differences instead of frames (both models)")
    r.add_argument("--cell", default="bounded")
    r.add_argument("--classes", type=int, default=27, help="train on the first N classes only")
    r.add_argument("--frames", type=int, default=8)
    r.add_argument("--steps", type=int, default=150)
    r.add_argument("--batch", type=int, default=16)
    r.add_argument("--lr", type=float, default=1e-3)
    r.add_argument("--last", type=int, default=3, help="frames at the end that the loss reads")
    r.add_argument("--eval-every", type=int, default=50)
    r.add_argument("--fp32", action="store_true", help="no bf16 autocast")
    r.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(2)
    if a.verb == "cache":
        cache(a.root, a.out, a.frames, a.stride)
    else:
        run(a)


if __name__ == "__main__":
    main()
