"""Bi-WKV CUDA kernel versus the dense reference, on a CUDA GPU.

1. forward+backward time of `bi_wkv` at the LCR and LCR-S training shapes (batch x frames rows,
   197 tokens, C 384 and 192, 4 heads), each path, plus the largest difference between them;
2. one end-to-end LCR training step (forward over a clip, backward, AdamW) in clips per second
   with the kernel and with the reference path (`force_reference`).

    PYTHONPATH=. python benchmarks/wkv.py                 # fp32, rows 512, LCR 16 clips x 32 frames
    PYTHONPATH=. python benchmarks/wkv.py --dtype bf16 --json

Targets: the kernel >= 5x faster than the reference for forward+backward, the whole
training step >= 2x. Exits with a message (status 1) without CUDA.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
DEVICE = "cuda"


def cuda_time_ms(fn, warmup: int, iters: int) -> float:
    """Median wall time of fn() in ms, measured with CUDA events around each call."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def op_inputs(rows, tokens, heads, dim, dtype, seed=0):
    """r, k, v [rows, tokens, heads, dim/heads] (dtype), w, u [heads, dim/heads] fp32, grad of y."""
    g = torch.Generator(device=DEVICE).manual_seed(seed)
    shape = (rows, tokens, heads, dim // heads)
    r, k, v, dy = (torch.randn(shape, generator=g, device=DEVICE).to(dtype) for _ in range(4))
    omega = torch.linspace(-6.0, 1.0, dim // heads, device=DEVICE).repeat(heads, 1)
    w = torch.exp(-torch.exp(omega))
    u = torch.full((heads, dim // heads), 0.5, device=DEVICE)
    return [x.requires_grad_() for x in (r, k, v, w, u)], dy


def bench_op(fn, args, dy, warmup, iters):
    def fwd():
        with torch.no_grad():
            fn(*args)

    def fwd_bwd():
        for a in args:
            a.grad = None
        fn(*args).backward(dy)

    torch.cuda.reset_peak_memory_stats()
    ms_fb = cuda_time_ms(fwd_bwd, warmup, iters)
    peak = torch.cuda.max_memory_allocated() / 2**30
    return {"fwd_ms": cuda_time_ms(fwd, warmup, iters), "fwd_bwd_ms": ms_fb, "peak_gib": peak}


def max_rel_diff(fn_a, fn_b, args, dy):
    """max |a - b| / max |b| over y and the five gradients (the worst of the six)."""
    def run(fn):
        y = fn(*args)
        return [y.float(), *(g.float() for g in torch.autograd.grad(y, args, dy))]

    return max(((a - b).abs().max() / b.abs().max().clamp(min=1e-30)).item()
               for a, b in zip(run(fn_a), run(fn_b), strict=True))


def bench_training_step(variant, clips, frames, dtype, warmup, iters):
    """Clips per second of one AdamW step of `variant` with each Bi-WKV path."""
    from lcr_edge.model import create_model, force_reference, tube_mask

    torch.manual_seed(0)
    model = create_model(variant).to(DEVICE)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = torch.randn(clips, frames, 3, 112, 112, device=DEVICE)
    e = (torch.rand(clips, frames, 1, 112, 112, device=DEVICE) > 0.9).float()
    labels = torch.randint(0, model.config.num_classes, (clips,), device=DEVICE)
    keep = tube_mask(clips, model.config.grid ** 2, 0.5, device=DEVICE)
    amp = dtype != torch.float32

    def step():
        with torch.autocast(DEVICE, dtype=dtype, enabled=amp):
            logits = model(x, e, keep=keep)  # (clips, frames, classes)
            loss = torch.nn.functional.cross_entropy(
                logits.flatten(0, 1).float(), labels.repeat_interleave(frames), label_smoothing=0.1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    out = {}
    for path in ("kernel", "reference"):
        with force_reference(path == "reference"):
            try:
                torch.cuda.reset_peak_memory_stats()
                ms = cuda_time_ms(step, warmup, iters)
                out[path] = {"step_ms": ms, "clips_per_s": clips / ms * 1e3,
                             "peak_gib": torch.cuda.max_memory_allocated() / 2**30}
            except torch.cuda.OutOfMemoryError:
                out[path] = {"error": "out of GPU memory"}
                torch.cuda.empty_cache()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=512, help="batch x frames rows of the op (512)")
    ap.add_argument("--tokens", type=int, default=197, help="tokens per row (197)")
    ap.add_argument("--dims", type=int, nargs="+", default=[384, 192], help="C values (384 192)")
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--dtype", choices=list(DTYPES), default="fp32",
                    help="op inputs; for the training step: autocast dtype (fp32 = no autocast)")
    ap.add_argument("--variant", default="lcr", help="model for the training step (lcr)")
    ap.add_argument("--clips", type=int, default=16, help="clips per training step (16)")
    ap.add_argument("--frames", type=int, default=32, help="frames per clip (32)")
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--no-step", action="store_true", help="skip the training-step benchmark")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = ap.parse_args(argv)

    if not torch.cuda.is_available():
        print("benchmarks/wkv.py needs a CUDA GPU: torch.cuda.is_available() is False "
              f"(torch {torch.__version__}, CUDA {torch.version.cuda}). Nothing measured.",
              file=sys.stderr)
        return 1

    from lcr_edge.model import wkv_cuda
    from lcr_edge.model.wkv import bi_wkv_reference

    dtype = DTYPES[args.dtype]
    t0 = time.perf_counter()
    wkv_cuda.load_extension()  # fails loudly here rather than silently using the reference
    report = {"gpu": torch.cuda.get_device_name(), "torch": torch.__version__,
              "cuda": torch.version.cuda, "dtype": args.dtype,
              "build_or_load_s": round(time.perf_counter() - t0, 1), "op": [], "step": None}
    if not args.json:
        print(f"GPU: {report['gpu']}  torch {report['torch']}  CUDA {report['cuda']}  "
              f"dtype {args.dtype}  (kernel built/loaded in {report['build_or_load_s']} s)")
        print(f"\nBi-WKV forward+backward, rows {args.rows} x tokens {args.tokens}, "
              f"{args.heads} heads (median of {args.iters}, ms)")
        print(f"{'C':>5} {'N':>4} {'kernel fwd':>11} {'ref fwd':>9} {'kernel f+b':>11} "
              f"{'ref f+b':>9} {'speed-up':>9} {'max rel diff':>13} {'GiB k/ref':>11}")
    for dim in args.dims:
        ins, dy = op_inputs(args.rows, args.tokens, args.heads, dim, dtype)
        k = bench_op(wkv_cuda.bi_wkv_cuda, ins, dy, args.warmup, args.iters)
        r = bench_op(bi_wkv_reference, ins, dy, args.warmup, args.iters)
        diff = max_rel_diff(wkv_cuda.bi_wkv_cuda, bi_wkv_reference, ins, dy)
        row = {"dim": dim, "head_size": dim // args.heads, "kernel": k, "reference": r,
               "speedup_fwd_bwd": r["fwd_bwd_ms"] / k["fwd_bwd_ms"], "max_rel_diff": diff}
        report["op"].append(row)
        if not args.json:
            print(f"{dim:>5} {dim // args.heads:>4} {k['fwd_ms']:>11.2f} {r['fwd_ms']:>9.2f} "
                  f"{k['fwd_bwd_ms']:>11.2f} {r['fwd_bwd_ms']:>9.2f} "
                  f"{row['speedup_fwd_bwd']:>8.1f}x {diff:>13.2e} "
                  f"{k['peak_gib']:>5.1f}/{r['peak_gib']:<5.1f}")
        del ins, dy
        torch.cuda.empty_cache()

    if not args.no_step:
        step = bench_training_step(args.variant, args.clips, args.frames, dtype, 1, args.iters)
        if "step_ms" in step["kernel"] and "step_ms" in step["reference"]:
            step["speedup"] = step["reference"]["step_ms"] / step["kernel"]["step_ms"]
        report["step"] = {"variant": args.variant, "clips": args.clips, "frames": args.frames,
                          **step}
        if not args.json:
            print(f"\nTraining step, {args.variant}, {args.clips} clips x {args.frames} frames, "
                  f"AdamW{'' if dtype == torch.float32 else ', autocast ' + args.dtype}")
            for path in ("kernel", "reference"):
                s = step[path]
                print(f"  {path:<9} " + (s["error"] if "error" in s else
                      f"{s['step_ms']:8.1f} ms/step  {s['clips_per_s']:7.1f} clips/s  "
                      f"peak {s['peak_gib']:.1f} GiB"))
            if "speedup" in step:
                print(f"  speed-up  {step['speedup']:.2f}x")
    if args.json:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
