"""Bi-WKV on CUDA: our kernel (csrc/bi_wkv.cu), built on first use, as an autograd Function.

The kernel computes two kinds of pass (see csrc/bi_wkv.cu and docs/wkv.md), each a causal scan
with the bonus u plus a reverse scan without it, state in fp32 registers, one block per
(batch row, head):

    value_pass(p, q, s)     out_t[i] = sum_j sum_c p_t[c] q_j[c] D[t,j,c] s_j[i]
    key_pass(q, a, b, x)    out_t[c] = sum_j D[t,j,c] a_j[c] (q_t . b_j)   (+ dw, du sums for x)

with D[t,t,c] = u[c] and D[t,j,c] = w[c]^(|t-j|-1) otherwise. D is symmetric in (t, j), so

    y  = value_pass(r, k, v)        dv = value_pass(k, r, dy)
    dr, dw, du = key_pass(dy, k, v, x=r)        dk = key_pass(v, r, dy)

`BiWKVFunction` composes these from any object with `value_pass` and `key_pass` (the compiled
extension, or lcr_edge.model.wkv_emulate's CPU emulation of the same loops, which is how the
algorithm is tested without a GPU).

The extension is built with torch.utils.cpp_extension.load for the visible GPUs' architectures
(or TORCH_CUDA_ARCH_LIST) into $LCR_WKV_BUILD_DIR, default ~/.cache/lcr-edge/wkv_cuda/<torch,
CUDA, sm tag>; later processes load the cached build. Needs nvcc and ninja.

>>> # on a CUDA machine:
>>> # y = bi_wkv_cuda(r, k, v, w, u)   # r, k, v [B, T, H, N] CUDA; w, u [H, N]
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch
from torch.autograd.function import once_differentiable

CSRC = Path(__file__).parent / "csrc"
SOURCES = (CSRC / "bi_wkv.cpp", CSRC / "bi_wkv.cu")
HEAD_SIZES = (16, 32, 48, 64, 96, 128)  # instantiated in bi_wkv.cu
DTYPES = (torch.float32, torch.bfloat16, torch.float16)

_extension = None
_build_error: str | None = None


def build_dir() -> Path:
    """Where the extension is built and cached: one folder per torch, CUDA and GPU architecture."""
    root = os.environ.get("LCR_WKV_BUILD_DIR")
    if not root:
        cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        root = Path(cache) / "lcr-edge" / "wkv_cuda"
    caps = sorted({torch.cuda.get_device_capability(i) for i in range(torch.cuda.device_count())})
    arch = os.environ.get("TORCH_CUDA_ARCH_LIST") or "_".join(f"sm{a}{b}" for a, b in caps)
    tag = f"torch{torch.__version__}-cuda{torch.version.cuda}-{arch}"
    return Path(root) / "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in tag)


def load_extension():
    """Build (first time) or load the compiled extension; raises on a build failure."""
    global _extension
    if _extension is None:
        from torch.utils.cpp_extension import load

        path = build_dir()
        path.mkdir(parents=True, exist_ok=True)
        _extension = load(
            name="lcr_bi_wkv",
            sources=[str(s) for s in SOURCES],
            build_directory=str(path),
            extra_cflags=["-O3"],
            extra_cuda_cflags=["-O3"],
            verbose=os.environ.get("LCR_WKV_VERBOSE", "0") == "1",
        )
    return _extension


def available() -> bool:
    """True when CUDA is present and the kernel is built (tried once per process; a failed build
    warns once with the reason and the reference path is used)."""
    global _build_error
    if _extension is not None:
        return True
    if _build_error is not None or not torch.cuda.is_available():
        return False
    try:
        load_extension()
    except Exception as exc:  # a missing nvcc/ninja or a compiler error: fall back, loudly
        _build_error = f"{type(exc).__name__}: {exc}"
        warnings.warn(f"Bi-WKV CUDA kernel unavailable, using the dense reference: {_build_error}",
                      RuntimeWarning, stacklevel=2)
        return False
    return True


def check_operands(r: torch.Tensor, k: torch.Tensor, v: torch.Tensor, w: torch.Tensor,
                   u: torch.Tensor) -> None:
    """The shapes every Bi-WKV path takes (this kernel's and lcr_edge.model.wkv's reference)."""
    if r.dim() != 4 or r.shape != k.shape or r.shape != v.shape:
        raise ValueError(f"bi_wkv: r, k, v must share one [B, T, H, N] shape, got "
                         f"{tuple(r.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    hn = tuple(r.shape[2:])
    if tuple(w.shape) != hn or tuple(u.shape) != hn:
        raise ValueError(f"bi_wkv: w and u must be [H, N] = {list(hn)}, got "
                         f"{tuple(w.shape)} and {tuple(u.shape)}")


def supports(r: torch.Tensor) -> bool:
    """Whether the kernel handles this operand's dtype and head size (else use the reference)."""
    return r.dtype in DTYPES and r.dim() == 4 and r.shape[-1] in HEAD_SIZES


class BiWKVFunction(torch.autograd.Function):
    """apply(passes, r, k, v, w, u) -> y; r, k, v [B, T, H, N] contiguous, one dtype; w, u [H, N].

    `passes` provides value_pass and key_pass (the extension or the emulation); they return fp32
    (or the emulation's accumulation dtype), cast here to the operands' dtypes."""

    @staticmethod
    def forward(ctx, passes, r, k, v, w, u):
        acc = getattr(passes, "acc", torch.float32)  # the extension: fp32; the emulation: its own
        w32, u32 = (x.detach().to(acc).contiguous() for x in (w, u))
        ctx.save_for_backward(r, k, v, w32, u32)
        ctx.passes, ctx.w_dtype, ctx.u_dtype = passes, w.dtype, u.dtype
        return passes.value_pass(r, k, v, w32, u32).to(r.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, dy):
        r, k, v, w32, u32 = ctx.saved_tensors
        passes = ctx.passes
        dy = dy.to(r.dtype).contiguous()
        _, need_r, need_k, need_v, need_w, need_u = ctx.needs_input_grad
        dr = dk = dv = dw = du = None
        if need_r or need_w or need_u:
            dr32, dw_part, du_part = passes.key_pass(dy, k, v, r, w32, u32)
            dr = dr32.to(r.dtype) if need_r else None
            dw = dw_part.sum(0).to(ctx.w_dtype) if need_w else None
            du = du_part.sum(0).to(ctx.u_dtype) if need_u else None
        if need_k:
            dk = passes.key_pass(v, r, dy, None, w32, u32)[0].to(k.dtype)
        if need_v:
            dv = passes.value_pass(k, r, dy, w32, u32).to(v.dtype)
        return None, dr, dk, dv, dw, du


def bi_wkv_cuda(r: torch.Tensor, k: torch.Tensor, v: torch.Tensor, w: torch.Tensor,
                u: torch.Tensor) -> torch.Tensor:
    """Bi-WKV with the CUDA kernel; same contract as lcr_edge.model.wkv.bi_wkv_reference.

    r, k, v [B, T, H, N] CUDA (fp32/bf16/fp16, k and v cast to r's dtype), w, u [H, N] -> y like r.
    """
    check_operands(r, k, v, w, u)
    if not supports(r):
        raise ValueError(f"bi_wkv_cuda: dtype {r.dtype} / head size {r.shape[-1]} not supported "
                         f"(dtypes {DTYPES}, head sizes {HEAD_SIZES})")
    r, k, v = (x.to(r.dtype).contiguous() for x in (r, k, v))
    return BiWKVFunction.apply(load_extension(), r, k, v, w, u)
