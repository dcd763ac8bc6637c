"""Bi-WKV reference against a separately written slow loop of the paper's equation (eq. 5, both
directions), values and gradients; odd sizes, strong and weak decays."""

import pytest
import torch

from lcr_edge.model.wkv import bi_wkv, bi_wkv_reference, matmul_min_decay


def slow_bi_wkv(r, k, v, w, u):
    """y_t = r_t . [diag(u) k_t^T v_t + sum_{j != t} diag(w)^(|t-j|-1) k_j^T v_j], loop by loop."""
    B, T, H, N = r.shape
    out = []
    for b in range(B):
        heads = []
        for h in range(H):
            rows = []
            for t in range(T):
                state = torch.diag(u[h]) @ torch.outer(k[b, t, h], v[b, t, h])
                for j in range(T):
                    if j != t:
                        decay = torch.diag(w[h] ** (abs(t - j) - 1))
                        state = state + decay @ torch.outer(k[b, j, h], v[b, j, h])
                rows.append(r[b, t, h] @ state)
            heads.append(torch.stack(rows))
        out.append(torch.stack(heads, dim=1))
    return torch.stack(out)


def inputs(B, T, H, N, decay, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    r, k, v = (torch.randn(B, T, H, N, generator=g, dtype=dtype) for _ in range(3))
    if decay == "strong":  # w = exp(-exp(omega)) with omega up to 5: w ~ 1e-64 (underflows in fp32)
        omega = torch.linspace(0.0, 5.0, H * N, dtype=dtype).view(H, N)
    elif decay == "weak":
        omega = torch.linspace(-8.0, -4.0, H * N, dtype=dtype).view(H, N)
    else:
        omega = torch.linspace(-6.0, 1.0, H * N, dtype=dtype).view(H, N)
    w = torch.exp(-torch.exp(omega))
    u = torch.randn(H, N, generator=g, dtype=dtype)
    return [x.requires_grad_() for x in (r, k, v, w, u)]


@pytest.mark.parametrize("T", [1, 2, 5, 16, 17, 40])
@pytest.mark.parametrize("decay, matmul_blocks", [("strong", None), ("strong", False), ("weak", True),
                                                  ("weak", False), ("mixed", True), ("mixed", False)])
def test_reference_matches_slow_loop_values_and_grads(T, decay, matmul_blocks):
    """Both forms of the diagonal blocks (matmuls, 3-way product); None with strong decays must
    fall back to the 3-way product (the matmul form's w^-9 would overflow)."""
    args = inputs(2, T, 2, 3, decay, seed=T)
    y = bi_wkv_reference(*args, matmul_blocks=matmul_blocks)
    y_slow = slow_bi_wkv(*args)
    torch.testing.assert_close(y, y_slow, rtol=1e-10, atol=1e-10)
    grad_out = torch.randn_like(y)
    grads = torch.autograd.grad((y * grad_out).sum(), args, allow_unused=True)
    grads_slow = torch.autograd.grad((y_slow * grad_out).sum(), args, allow_unused=True)
    for name, a, b, x in zip("rkvwu", grads, grads_slow, args):
        a = torch.zeros_like(x) if a is None else a  # T = 1: w plays no part
        b = torch.zeros_like(x) if b is None else b
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-10, msg=f"grad of {name}")


def test_the_matmul_form_holds_down_to_its_smallest_decay():
    """Eager calls take the matmul form when every w >= matmul_min_decay(block); it holds
    with fp32 inputs down to that bound, values and gradients."""
    assert 4e-4 < matmul_min_decay(16) < 5e-4
    args = inputs(2, 197, 2, 8, "mixed", dtype=torch.float32)
    with torch.no_grad():
        args[3].clamp_(min=matmul_min_decay(16))  # the strongest decay the matmul form allows
    y_mat = bi_wkv_reference(*args, matmul_blocks=True)
    y_3way = bi_wkv_reference(*args, matmul_blocks=False)
    torch.testing.assert_close(y_mat, y_3way, rtol=1e-4, atol=1e-4)
    g_mat = torch.autograd.grad(y_mat.square().sum(), args)
    g_3way = torch.autograd.grad(y_3way.square().sum(), args)
    for name, a, b in zip("rkvwu", g_mat, g_3way):
        assert torch.isfinite(a).all(), name
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-2, msg=f"grad of {name}")


@pytest.mark.parametrize("block", [1, 3, 16, 64])
def test_block_size_does_not_change_the_result(block):
    args = inputs(1, 37, 2, 4, "mixed", dtype=torch.float32)
    torch.testing.assert_close(bi_wkv_reference(*args, block=block), bi_wkv_reference(*args, block=8),
                               rtol=1e-5, atol=1e-5)


def test_strong_decay_in_fp32_stays_finite_with_finite_gradients():
    args = inputs(1, 197, 4, 8, "strong", dtype=torch.float32)
    y = bi_wkv_reference(*args)
    assert torch.isfinite(y).all()
    for g in torch.autograd.grad(y.square().sum(), args):
        assert torch.isfinite(g).all()


def test_low_precision_inputs_keep_their_dtype_and_accumulate_in_fp32():
    args = [a.detach() for a in inputs(2, 23, 2, 8, "mixed", dtype=torch.float32)]
    ref = bi_wkv_reference(*args)
    low = bi_wkv_reference(*[a.bfloat16() for a in args[:3]], args[3], args[4])
    assert low.dtype == torch.bfloat16
    torch.testing.assert_close(low.float(), ref, rtol=0.05, atol=0.05 * ref.abs().max().item())


def test_public_op_uses_the_reference_on_cpu():
    args = [a.detach() for a in inputs(1, 9, 1, 4, "mixed", dtype=torch.float32)]
    torch.testing.assert_close(bi_wkv(*args), bi_wkv_reference(*args))


@pytest.mark.parametrize("shapes", [
    ((1, 5, 2, 4), (1, 5, 2, 3), (1, 5, 2, 4), (2, 4), (2, 4)),
    ((1, 5, 2, 4), (1, 5, 2, 4), (1, 5, 2, 4), (2, 3), (2, 4)),
    ((5, 2, 4), (5, 2, 4), (5, 2, 4), (2, 4), (2, 4)),
])
def test_wrong_shapes_raise_one_clear_error(shapes):
    with pytest.raises(ValueError, match="bi_wkv"):
        bi_wkv_reference(*(torch.zeros(s) for s in shapes))
