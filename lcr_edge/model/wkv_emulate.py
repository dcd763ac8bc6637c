"""CPU emulation of the Bi-WKV CUDA kernel's loops (csrc/bi_wkv.cu), for testing without a GPU.

Same passes, same scan order and same per-token arithmetic as the kernel, with the per-(batch,
head) N x N state in `acc` precision (fp32 like the kernel; float64 for exact checks of the
formulas); only the sum over one state row/column is a vectorised torch sum instead of the
kernel's sequential loop. `bi_wkv_emulated` runs it through the same autograd Function as the
kernel (lcr_edge.model.wkv_cuda.BiWKVFunction), so the backward composition is tested too.

>>> B, T, H, N = 1, 4, 1, 2
>>> r, k, v = torch.randn(3, B, T, H, N).unbind(0)
>>> bi_wkv_emulated(r, k, v, torch.full((H, N), 0.5), torch.ones(H, N)).shape
torch.Size([1, 4, 1, 2])
"""

from __future__ import annotations

import torch

from lcr_edge.model.wkv_cuda import BiWKVFunction


class EmulatedPasses:
    """value_pass / key_pass with the compiled extension's signatures; state in `acc`."""

    def __init__(self, acc: torch.dtype = torch.float32):
        self.acc = acc

    def value_pass(self, p, q, s, w, u):
        """out_t[i] = sum_j sum_c p_t[c] q_j[c] D[t,j,c] s_j[i]; thread i = state column [:, i].

        p, q, s [B, T, H, N]; w, u [H, N] -> out [B, T, H, N] in acc."""
        p, q, s, w, u = (x.to(self.acc) for x in (p, q, s, w, u))
        B, T, H, N = p.shape
        w_c, u_c = w[..., :, None], u[..., :, None]  # per state row c: [H, N, 1]
        out = torch.empty(B, T, H, N, dtype=self.acc)
        state = torch.zeros(B, H, N, N, dtype=self.acc)  # [b, h, c, i]
        for t in range(T):  # causal scan, with the bonus
            qs = q[:, t, :, :, None] * s[:, t, :, None, :]  # q_s[c] * si
            out[:, t] = (p[:, t, :, :, None] * (u_c * qs + state)).sum(-2)
            state = state * w_c + qs
        state = torch.zeros(B, H, N, N, dtype=self.acc)
        for t in reversed(range(T)):  # reverse scan, no bonus
            acc = (p[:, t, :, :, None] * state).sum(-2)
            state = state * w_c + q[:, t, :, :, None] * s[:, t, :, None, :]
            out[:, t] = out[:, t] + acc
        return out

    def key_pass(self, q, a, b, x, w, u):
        """out_t[c] = sum_j D[t,j,c] a_j[c] (q_t . b_j); thread c = state row [c, :].

        With x: dw_part[b,h,c] = sum_t x_t[c] q_t . (dF/dw + dR/dw)[c], du_part = sum_t x_t[c]
        a_t[c] (q_t . b_t); both [B, H, N] (empty [0, H, N] without x)."""
        q, a, b, w, u = (y.to(self.acc) for y in (q, a, b, w, u))
        with_wu = x is not None
        x = x.to(self.acc) if with_wu else None
        B, T, H, N = q.shape
        w_c = w[..., :, None]  # [H, N, 1]: row c decays by w[c]
        out = torch.empty(B, T, H, N, dtype=self.acc)
        dw_acc = torch.zeros(B, H, N, dtype=self.acc)
        du_acc = torch.zeros(B, H, N, dtype=self.acc)
        for direction in ("causal", "reverse"):
            state = torch.zeros(B, H, N, N, dtype=self.acc)  # [b, h, c, i]
            grad_w = torch.zeros(B, H, N, N, dtype=self.acc)  # d state / d w[c]
            steps = range(T) if direction == "causal" else reversed(range(T))
            for t in steps:
                q_t, b_t, a_t = q[:, t], b[:, t], a[:, t]  # [B, H, N]
                q_state = (q_t[..., None, :] * state).sum(-1)  # [B, H, c]
                if with_wu:
                    q_grad = (q_t[..., None, :] * grad_w).sum(-1)
                    grad_w = grad_w * w_c + state  # the state before this token's update
                state = state * w_c + a_t[..., :, None] * b_t[..., None, :]
                if direction == "causal":
                    q_b = (q_t * b_t).sum(-1, keepdim=True)  # [B, H, 1]
                    out[:, t] = u * a_t * q_b + q_state
                    if with_wu:
                        du_acc = du_acc + x[:, t] * a_t * q_b
                else:
                    out[:, t] = out[:, t] + q_state
                if with_wu:
                    dw_acc = dw_acc + x[:, t] * q_grad
        if not with_wu:
            dw_acc = du_acc = torch.zeros(0, H, N, dtype=self.acc)
        return out, dw_acc, du_acc


def bi_wkv_emulated(r, k, v, w, u, acc: torch.dtype = torch.float32) -> torch.Tensor:
    """Bi-WKV through the kernel's autograd Function with the CPU emulation of its passes.

    r, k, v [B, T, H, N] (k, v cast to r's dtype), w, u [H, N] -> y [B, T, H, N] like r."""
    r, k, v = (x.to(r.dtype).contiguous() for x in (r, k, v))
    return BiWKVFunction.apply(EmulatedPasses(acc), r, k, v, w, u)
