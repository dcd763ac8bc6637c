"""Bi-WKV: multi-head, matrix-state, bidirectional RWKV mixing over the tokens of one frame.

Per head, with r, k, v rows of length N and static per-channel decay w = exp(-exp(omega)) in (0, 1):

    y_t = r_t . [ diag(u) k_t^T v_t  +  sum_{j != t} diag(w)^(|t-j|-1) k_j^T v_j ]
        = sum_j A[t, j] v_j,   A[t, j] = sum_c r_t[c] k_j[c] D[t, j, c],
    D[t, t, c] = u[c],  D[t, j, c] = w[c]^(|t-j|-1)

(a causal pass with the bonus u plus a reverse pass without it). `bi_wkv_reference` computes this
densely (the whole T x T matrix A per head), exactly, differentiably and exportably, in plain
PyTorch. Two choices keep it cheap (measured: docs/wkv.md):

* No B x T x T x C tensor. Tokens are cut into blocks of `BLOCK`. For a query t in block [s, e)
  and a key j left of the block, w^(t-1-j) = w^(t-s) * w^(s-1-j): both exponents are >= 0, so
  A's off-block part is one matmul of decayed r against decayed k, with no division by powers of
  w (which overflows for strong decays). Right of the block likewise with w^(e-1-t) * w^(j-e).
  Only the L x L diagonal blocks use the 3-way product with D, i.e. B x T x L x C.
* Decays are built in fp32 from w once per call; inputs of any float dtype, fp32 accumulation.
* The diagonal blocks as two masked matmuls where w allows (`_diag_blocks_matmul`): for j < t,
  w^(t-1-j) = w^(t-c) * w^(c-1-j) about the block's middle c, so the lower triangle is
  (r * w^(t-c)) @ (k * w^(c-1-j))^T, the upper one likewise, and u on the diagonal. Negative
  powers (down to w^-(L/2+1)) stay finite while w >= `matmul_min_decay(L)`; each entry is still
  one product per channel, so the result is the 3-way product's to rounding. 7.5x faster forward
  + backward on the CPU than the 3-way product (docs/wkv.md). Under torch.compile / export (no
  data-dependent branch allowed) and for stronger decays the 3-way product runs.

`bi_wkv` is the public op: it dispatches CUDA tensors to our kernel (lcr_edge.model.wkv_cuda)
and everything else to the reference; LCR_WKV_REFERENCE=1 or `with force_reference():` sends
everything to the reference (float64, unsupported head sizes, tracing and ONNX export always go
there).
"""

from __future__ import annotations

import contextlib
import math
import os

import torch

from lcr_edge.model import wkv_cuda  # the kernel builds on first use, not on import

BLOCK = 16


def matmul_min_decay(block: int = BLOCK) -> float:
    """Smallest w for the matmul form of blocks of `block` tokens: w^-(block/2 + 1) <= 1e30, which
    leaves fp32 headroom for |r|, |k|. 4.6e-4 for 16-token blocks (omega <= 2.04)."""
    return 1e-30 ** (1 / (block // 2 + 1))


def _decay_tables(w: torch.Tensor, u: torch.Tensor, nb: int, block: int):
    """Powers of w for one call, in w's dtype; w, u: [H, N]. Every exponent is >= 0 (no division).

    Returns
      w_in   [L, H, N]       w^p for p = position inside the block (t - s)
      w_out  [L, H, N]       w^(L-1-p)                             (e - 1 - t)
      carry  [H, N, nb, nb]  w^(L*(I-J-1)) for J < I, else 0: decay from block J's end to I's start
      d_diag [L, L, H, N]    u on the diagonal, w^(|t-j|-1) elsewhere (inside one block)
    """
    pos = torch.arange(block, device=w.device, dtype=w.dtype)
    w_in = torch.pow(w, pos[:, None, None])
    w_out = torch.pow(w, (block - 1 - pos)[:, None, None])
    blk = torch.arange(nb, device=w.device)
    gap = (blk[:, None] - blk[None, :] - 1)  # I - J - 1
    carry = torch.pow(w[..., None, None], (block * gap.clamp(min=0)).to(w.dtype))
    carry = carry * (gap >= 0).to(w.dtype)
    lag = (pos[:, None] - pos[None, :]).abs()  # [L, L]
    off = torch.pow(w, (lag - 1).clamp(min=0)[..., None, None])
    d_diag = torch.where((lag == 0)[..., None, None], u.expand_as(off), off)
    return w_in, w_out, carry, d_diag


def _diag_blocks_matmul(rb: torch.Tensor, kb: torch.Tensor, w: torch.Tensor, u: torch.Tensor):
    """A inside each block, rb, kb [B, H, nb, L, N]; w, u [H, N] -> [B, H, nb, L, L] (module doc)."""
    L = rb.shape[-2]
    pos = torch.arange(L, device=w.device, dtype=w.dtype)
    c = L // 2

    def powers(e):  # w^e for a vector e of exponents -> [H, 1, L, N]
        return torch.pow(w, e[:, None, None]).permute(1, 0, 2)[:, None]

    lower = (rb * powers(pos - c)) @ (kb * powers(c - 1 - pos)).transpose(-1, -2)
    upper = (rb * powers(c - pos)) @ (kb * powers(pos - 1 - c)).transpose(-1, -2)
    on_diag = (rb * kb * u[:, None, None, :]).sum(-1)
    # Each product keeps only its own triangle: the other one holds negative powers of w, which
    # may overflow to inf, so select (where), never multiply by a 0/1 mask (inf * 0 = nan). The
    # masks are constants, not tril/triu/diag_embed: they fold away in ONNX and OpenVINO.
    lag = pos[:, None] - pos[None, :]
    return torch.where(lag > 0, lower, torch.where(lag < 0, upper, on_diag[..., None]))


def bi_wkv_reference(r: torch.Tensor, k: torch.Tensor, v: torch.Tensor, w: torch.Tensor,
                     u: torch.Tensor, block: int = BLOCK,
                     matmul_blocks: bool | None = None) -> torch.Tensor:
    """Exact Bi-WKV. r, k, v: [B, T, H, N]; w (decay in (0, 1)), u: [H, N] -> y [B, T, H, N].

    matmul_blocks: the diagonal blocks as matmuls (True), as the 3-way product (False), or
    (None) matmuls when eager and every w >= `matmul_min_decay(block)`.

    >>> B, T, H, N = 2, 5, 1, 3
    >>> r, k, v = torch.randn(3, B, T, H, N).unbind(0)
    >>> bi_wkv_reference(r, k, v, torch.full((H, N), 0.9), torch.ones(H, N)).shape
    torch.Size([2, 5, 1, 3])
    """
    wkv_cuda.check_operands(r, k, v, w, u)
    out_dtype = r.dtype
    B, T, H, N = r.shape
    L = min(block, T)
    nb = math.ceil(T / L)
    t_pad = nb * L
    acc = torch.promote_types(r.dtype, torch.float32)  # bf16/fp16 in, fp32 accumulation
    w_in, w_out, carry, d_diag = _decay_tables(w.to(acc), u.to(acc), nb, L)
    w_in, w_out = w_in.permute(1, 0, 2)[:, None], w_out.permute(1, 0, 2)[:, None]  # [H,1,L,N]

    def blocks(x):  # [B, T, H, N] -> [B, H, nb, L, N] in acc, zero-padded (padding adds nothing)
        x = x.to(acc).transpose(1, 2)
        if t_pad != T:
            x = torch.nn.functional.pad(x, (0, 0, 0, t_pad - T))
        return x.reshape(B, H, nb, L, N)

    rb, kb, vb = blocks(r), blocks(k), blocks(v)

    # Each block's keys as an N x N state, decayed to the block's end (the causal pass) and to its
    # start (the reverse pass), both in one matmul: [to_end; to_start] stacked on the key channels
    # by one broadcast product (what a concat would do, fused).
    kw = (kb[..., None, :] * torch.stack([w_out, w_in], dim=-2)).flatten(-2)  # [B, H, nb, L, 2N]
    states = kw.transpose(-1, -2) @ vb  # [B, H, nb, 2N, N]: sum_j w^(e-1-j) k_j^T v_j; w^(j-s) ...

    # State entering block I from the left: sum_{J<I} diag(w^(L(I-J-1))) to_end_J; from the right
    # likewise with J > I. One matmul over the block axis per (head, key channel), both directions
    # at once: the result is [left; right] stacked on the key channels, as rq below wants it.
    decay = torch.cat([carry, carry.transpose(-1, -2)], dim=1)  # [H, 2N, nb, nb]
    s = states.permute(1, 3, 2, 0, 4).reshape(H, 2 * N, nb, B * N)
    left_right = (decay @ s).reshape(H, 2 * N, nb, B, N).permute(3, 0, 2, 1, 4)  # [B, H, nb, 2N, N]
    rq = (rb[..., None, :] * torch.stack([w_in, w_out], dim=-2)).flatten(-2)  # [B, H, nb, L, 2N]
    y = rq @ left_right  # [B, H, nb, L, N]

    # Inside a block: A exactly, L x L per block.
    if matmul_blocks is None:
        matmul_blocks = not torch.compiler.is_compiling() and bool(w.min() >= matmul_min_decay(L))
    if matmul_blocks:
        a_diag = _diag_blocks_matmul(rb, kb, w.to(acc), u.to(acc))
    else:  # the 3-way product with D
        dd = d_diag.permute(2, 0, 1, 3)[:, None]  # [H, 1, L, L, N]
        a_diag = (rb[..., :, None, :] * kb[..., None, :, :] * dd).sum(-1)  # [B, H, nb, L, L]
    y = y + a_diag @ vb

    return y.reshape(B, H, t_pad, N)[:, :, :T].transpose(1, 2).to(out_dtype)


_forced = 0  # depth of nested force_reference() blocks


@contextlib.contextmanager
def force_reference(enabled: bool = True):
    """Within the block, `bi_wkv` uses the dense reference even for CUDA tensors.

    >>> with force_reference():
    ...     use_reference()
    True
    """
    global _forced
    _forced += int(enabled)
    try:
        yield
    finally:
        _forced -= int(enabled)


def use_reference() -> bool:
    """True when LCR_WKV_REFERENCE=1 or a `force_reference()` block forces the reference path."""
    env = os.environ.get("LCR_WKV_REFERENCE", "0")
    return _forced > 0 or env not in ("", "0", "false", "False")


def bi_wkv(r: torch.Tensor, k: torch.Tensor, v: torch.Tensor, w: torch.Tensor,
           u: torch.Tensor, matmul_blocks: bool | None = None) -> torch.Tensor:
    """Public Bi-WKV op (see module docstring): CUDA kernel for CUDA tensors, else the reference.

    matmul_blocks goes to the reference: a caller that guarantees w >= `matmul_min_decay()` (the
    LCR model clamps its decays) passes True, so torch.compile and ONNX export get the fast form."""
    if r.is_cuda and not use_reference() and not torch.jit.is_tracing() \
            and not torch.onnx.is_in_onnx_export():
        if wkv_cuda.supports(r) and wkv_cuda.available():
            return wkv_cuda.bi_wkv_cuda(r, k, v, w, u)
    return bi_wkv_reference(r, k, v, w, u, matmul_blocks=matmul_blocks)
