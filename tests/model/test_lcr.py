import copy

import pytest
import torch

from lcr_edge.errors import LCRError
from lcr_edge.model import VARIANTS, LCRConfig, count_macs, create_model, tube_mask


def clip(B, F, seed=0, S=112):
    g = torch.Generator().manual_seed(seed)
    frames = torch.randn(B, F, 3, S, S, generator=g)
    edges = (torch.rand(B, F, 1, S, S, generator=g) > 0.85).float()
    return frames, edges


def wake_edges(model, seed=0):
    """The edge embedding starts at zero; give it weights so step/forward tests exercise it."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model.edge_embed.weight.copy_(torch.randn(model.edge_embed.weight.shape, generator=g) * 0.2)
        model.edge_cls.copy_(torch.randn(model.edge_cls.shape, generator=g) * 0.2)


@pytest.mark.parametrize("cell, head, motion, stem", [
    ("bounded", "mean", "none", "patch"), ("paper", "mean", "none", "patch"),
    ("bounded", "cls", "none", "patch"), ("bounded", "max", "diff", "patch"),
    ("bounded", "max", "diff", "conv")])
def test_step_equals_forward_over_16_frames(cell, head, motion, stem):
    torch.manual_seed(0)
    model = create_model("lcr-s", cell=cell, head=head, motion=motion, stem=stem).eval()
    wake_edges(model)
    frames, edges = clip(2, 16)
    with torch.no_grad():
        batched = model(frames, edges)
        state, streamed = model.initial_state(2), []
        for t in range(16):
            logits, state = model.step(frames[:, t], edges[:, t], state)
            streamed.append(logits)
    streamed = torch.stack(streamed, dim=1)
    assert batched.shape == (2, 16, 27)
    assert (batched - streamed).abs().max().item() <= 1e-5
    # the logits really change from frame to frame: the state carries information
    assert (batched[:, 1:] - batched[:, :-1]).abs().max().item() > 1e-4


@pytest.mark.parametrize("motion", ["none", "diff"])
def test_rollout_is_stepping_frame_by_frame_and_forward_leaves_the_same_state(motion):
    """`rollout` over a clip gives exactly the logits and state of calling `step` frame by frame,
    from a fresh stream (state None) or a given one; `forward` (batched embeddings) gives the same
    logits and, with return_state, the same state to continue from."""
    from lcr_edge.model.lcr import rollout

    torch.manual_seed(0)
    model = create_model("lcr-s", num_classes=5, dim=32, depth=2, motion=motion, head="max").eval()
    wake_edges(model)
    frames, edges = clip(2, 6, seed=7)
    with torch.no_grad():
        state, stepped = model.initial_state(2), []
        for t in range(6):
            logits, state = model.step(frames[:, t], edges[:, t], state)
            stepped.append(logits)
        stepped = torch.stack(stepped, dim=1)
        rolled, rolled_state = rollout(model.step, frames, edges)
        assert torch.equal(rolled, stepped) and torch.equal(rolled_state, state)
        first, middle = rollout(model.step, frames[:, :3], edges[:, :3])
        rest, end = rollout(model.step, frames[:, 3:], edges[:, 3:], middle)
        assert torch.equal(torch.cat([first, rest], 1), stepped) and torch.equal(end, state)
        batched, batched_state = model(frames, edges, return_state=True)
    torch.testing.assert_close(batched, stepped, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(batched_state, state, rtol=1e-5, atol=1e-5)
    assert (stepped[:, 1:] - stepped[:, :-1]).abs().max().item() > 1e-4  # the state matters


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_variant_shapes_backward_and_step(name):
    torch.manual_seed(0)
    model = create_model(name, num_classes=7)
    wake_edges(model)
    frames, edges = clip(1, 2)
    logits = model(frames, edges)
    assert logits.shape == (1, 2, 7)
    logits.square().mean().backward()
    assert all(p.grad is not None for p in model.parameters())
    with torch.no_grad():
        state = model.initial_state(1)
        assert state.shape == (model.config.depth, model.config.slots, 1, 197, model.config.dim)
        step_logits, state2 = model.step(frames[:, 0], edges[:, 0], state)
        torch.testing.assert_close(step_logits, logits[:, 0], rtol=1e-5, atol=1e-5)
        assert state2.shape == state.shape


@pytest.mark.parametrize("depth", [1, 2])
def test_motion_diff_carries_the_previous_frame_in_the_state(depth):
    """forward(frames[2:], state after two steps) continues the stream exactly: the state's third
    slot holds frame 1's patches, which frame 2's difference needs."""
    torch.manual_seed(0)
    model = create_model("lcr-s", num_classes=5, motion="diff", head="max", depth=depth).eval()
    wake_edges(model)
    frames, edges = clip(2, 5, seed=3)
    with torch.no_grad():
        state = model.initial_state(2)
        assert state.shape == (depth, 3, 2, 197, model.config.dim)
        for t in range(2):
            _, state = model.step(frames[:, t], edges[:, t], state)
        continued = model(frames[:, 2:], edges[:, 2:], state=state)
        whole = model(frames, edges)
        cold = model(frames[:, 2:], edges[:, 2:])  # without the state: another result
    torch.testing.assert_close(continued, whole[:, 2:], rtol=1e-5, atol=1e-5)
    assert (cold - whole[:, 2:]).abs().max().item() > 1e-3


def test_motion_diff_cancels_a_static_background():
    """With motion="diff" the frame tokens are patches of x_t - x_{t-1}: the same image added to
    both frames (a background) changes nothing; with motion="none" it changes the tokens."""
    torch.manual_seed(0)
    frames, edges = clip(1, 2, seed=4)
    background = torch.randn(1, 3, 112, 112)
    for motion in ("diff", "none"):
        model = create_model("lcr-s", num_classes=5, motion=motion, stem="patch")  # a linear stem
        with torch.no_grad():
            def tokens(f0, f1, model=model):
                return model.embed(model.patches(f1), edges[:, 1], previous=model.patches(f0))[0]
            plain = tokens(frames[:, 0], frames[:, 1])
            moved = tokens(frames[:, 0] + background, frames[:, 1] + background)
        gap = (plain - moved).abs().max().item()
        assert gap < 1e-4 if motion == "diff" else gap > 1e-2


def test_motion_diff_sees_no_change_in_the_first_frame_of_a_stream():
    """A fresh stream (all-zero previous patches) has no previous frame: the first frame's change is
    zero, so its tokens are the position embedding alone, not the whole frame."""
    torch.manual_seed(0)
    frames, edges = clip(2, 2, seed=5)
    model = create_model("lcr-s", num_classes=5, motion="diff")
    with torch.no_grad():
        p = model.patches(frames[:, 0])
        first, _ = model.embed(p, edges[:, 0], previous=torch.zeros_like(p))
        later, _ = model.embed(model.patches(frames[:, 1]), edges[:, 1], previous=p)
    n = model.config.grid ** 2
    torch.testing.assert_close(first[:, :n], model.pos_embed.expand(2, -1, -1))
    assert (later[:, :n] - model.pos_embed).abs().max().item() > 1e-2


def test_conv_stem_change_is_zero_where_the_frame_did_not_change():
    """stem="conv": frame tokens are ConvStem(x_t) - ConvStem(x_{t-1}); pixels that did not change
    give no change outside the receptive field of the pixels that did (token j sees pixels 8j-3..8j+7)."""
    torch.manual_seed(0)
    model = create_model("lcr-s", num_classes=5, motion="diff", stem="conv")
    f0 = torch.randn(1, 3, 112, 112)
    f1 = f0.clone()
    f1[..., :16, :16] += 1.0  # a change in the top-left 2 x 2 patches only
    with torch.no_grad():
        x, _ = model.embed(model.patches(f1), torch.zeros(1, 1, 112, 112), previous=model.patches(f0))
    change = (x[0, :196] - model.pos_embed[0]).abs().amax(-1).view(14, 14)
    assert change[:3, :3].max().item() > 1e-3
    assert change[4:].max().item() < 1e-5 and change[:, 4:].max().item() < 1e-5
    assert model.patches(f0).shape == (1, 196, 192)


@pytest.mark.parametrize("head", ["mean", "cls", "max"])
@pytest.mark.parametrize("cell", ["bounded", "paper"])
def test_after_one_optimiser_step_every_parameter_gets_a_gradient(cell, head):
    """At step one the zero-initialised edge prompt gets a gradient (through K, V and the cell's
    forget gate; with the paper's cell, whose memory stays exactly 0 while E = 0, only through its
    CLS slot). After one optimiser step every parameter has one. The paper's cell needs a second:
    its patch memory is exactly 0 until the patch edge embedding has moved off zero."""
    torch.manual_seed(0)
    model = create_model("lcr-s", num_classes=5, cell=cell, head=head)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    frames, edges = clip(2, 3)
    target = torch.tensor([1, 3])

    def loss_step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(frames, edges)[:, -1], target)
        loss.backward()
        return loss

    loss_step()
    prompt = [model.edge_cls] if cell == "paper" else [model.edge_embed.weight, model.edge_embed.bias]
    assert all(p.grad.abs().sum() > 0 for p in prompt), "zero-init edge prompt got no gradient"
    for _ in range(1 if cell == "bounded" else 2):
        opt.step()
        loss_step()
    dead = [n for n, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert not dead, f"parameters without gradient after the optimiser step(s): {dead}"


def test_training_reduces_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = create_model("lcr-s", num_classes=3, dim=64)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    frames, edges = clip(3, 2, seed=1)
    target = torch.tensor([0, 1, 2])
    losses = []
    for _ in range(15):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(frames, edges)[:, -1], target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_tube_mask_is_one_mask_per_clip_with_the_right_ratio():
    keep = tube_mask(4, 196, 0.5, torch.Generator().manual_seed(0))
    assert keep.shape == (4, 196)
    assert (keep.sum(1) == 98).all()
    assert not torch.equal(keep[0], keep[1])
    model = create_model("lcr-s", num_classes=4, dim=32).eval()
    frames, edges = clip(4, 2)
    with torch.no_grad():
        assert not torch.allclose(model(frames, edges, keep=keep), model(frames, edges))


def test_count_macs_matches_the_linear_layers_by_hand():
    model = create_model("lcr-s-paper")  # eq. 1's patch projection, counted below
    C, T = 192, 197
    linear = T * (2 * C * C * 2 + C * C * 3 + C * C + 4 * C * C * 2)  # R,G (2C->C); K,V,out; channel mix
    conv = 196 * (3 * 64 * C + 64 * C)
    macs = count_macs(model)
    assert linear + conv < macs < 1.25 * (linear + conv)


def test_bounded_cell_state_stays_bounded_on_a_long_stream():
    torch.manual_seed(0)
    model = create_model("lcr-s", num_classes=5, dim=32).eval()
    wake_edges(model)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(5.0)  # exaggerated weights: the convex cell must still keep |C| <= 1
        state = model.initial_state(1)
        for t in range(60):
            frames, edges = clip(1, 1, seed=t)
            logits, state = model.step(frames[:, 0], edges[:, 0], state)
    assert torch.isfinite(logits).all()
    assert state[:, 1].abs().max() <= 1.0


@pytest.mark.parametrize("bad", [
    lambda m: m.step(torch.zeros(1, 3, 64, 64), torch.zeros(1, 1, 64, 64), m.initial_state(1)),
    lambda m: m.step(torch.zeros(1, 3, 112, 112), torch.zeros(1, 3, 112, 112), m.initial_state(1)),
    lambda m: m(torch.zeros(1, 3, 112, 112), torch.zeros(1, 1, 112, 112)),
    lambda m: m(torch.zeros(1, 2, 3, 112, 112, dtype=torch.uint8),
                torch.zeros(1, 2, 1, 112, 112, dtype=torch.uint8)),
])
def test_bad_input_raises_one_clear_error(bad):
    model = create_model("lcr-s", dim=32, num_classes=3)
    with pytest.raises(LCRError, match="frames|edges"):
        bad(model)


def test_unknown_variant_and_bad_config():
    with pytest.raises(LCRError, match="unknown variant 'lcr-xxl'; choose one of lcr-s, lcr, lcr-l, "
                                       "lcr-s-paper, lcr-paper, lcr-l-paper"):
        create_model("lcr-xxl")
    with pytest.raises(LCRError, match="unknown config field"):
        create_model("lcr", width=3)
    with pytest.raises(LCRError, match="cell"):
        LCRConfig(cell="gru")
    with pytest.raises(LCRError, match="head must be 'cls', 'mean' or 'max'"):
        LCRConfig(head="sum")
    with pytest.raises(LCRError, match="motion must be 'none' or 'diff'"):
        LCRConfig(motion="flow")
    with pytest.raises(LCRError, match="stem must be 'patch' or 'conv'"):
        LCRConfig(stem="resnet")
    with pytest.raises(LCRError, match="patch_size must be 8"):
        LCRConfig(stem="conv", patch_size=16)


def test_decay_is_floored_where_the_matmul_form_of_bi_wkv_stays_exact():
    """CrossRWKV clamps omega so w >= matmul_min_decay: the model may always call Bi-WKV's matmul
    form (what compile and ONNX export run), and a channel pushed past the floor still gives finite
    outputs equal to the 3-way product's."""
    from lcr_edge.model import wkv
    from lcr_edge.model.wkv import bi_wkv_reference, matmul_min_decay

    torch.manual_seed(0)
    model = create_model("lcr-s", num_classes=5, dim=32).eval()
    wake_edges(model)
    gate = model.units[0].gate
    with torch.no_grad():
        gate.omega[:, ::3] = 8.0  # w = exp(-e^8): far stronger than the floor
    w = gate.decay()
    assert w.min().item() == pytest.approx(matmul_min_decay(wkv.BLOCK), rel=1e-4)
    frames, edges = clip(2, 3)
    with torch.no_grad():
        fast = model(frames, edges)
        import lcr_edge.model.lcr as lcr

        original = lcr.bi_wkv
        lcr.bi_wkv = lambda *a, matmul_blocks=None: bi_wkv_reference(*a, matmul_blocks=False)
        try:
            slow = model(frames, edges)
        finally:
            lcr.bi_wkv = original
    assert torch.isfinite(fast).all()
    torch.testing.assert_close(fast, slow, rtol=1e-4, atol=1e-5)


@pytest.mark.slow  # torch.compile: ~40 s on a machine without its cache
def test_compiled_unit_step_matches_eager_values_and_gradients():
    """What `lcr-edge train` compiles on the CPU (each unit's `recur`) computes what eager does."""
    torch.manual_seed(0)
    eager = create_model("lcr-s", num_classes=5, dim=32, motion="diff", stem="conv", head="max")
    wake_edges(eager)
    compiled = copy.deepcopy(eager)
    for unit in compiled.units:
        unit.recur = torch.compile(unit.recur, dynamic=False)
    frames, edges = clip(2, 3)
    labels = torch.tensor([1, 3])
    grads = []
    for m in (eager, compiled):
        loss = torch.nn.functional.cross_entropy(m(frames, edges)[:, -1], labels)
        loss.backward()
        grads.append({n: p.grad for n, p in m.named_parameters()})
    for n in grads[0]:
        torch.testing.assert_close(grads[1][n], grads[0][n], rtol=1e-3, atol=1e-6, msg=n)


@pytest.mark.parametrize("grid", [1, 3, 14])
def test_q_shift_gather_equals_the_pad_slice_reference(grid):
    """The Gather form (what runs and exports) moves every channel quarter exactly as pad + slice
    + cat does, borders zero and CLS unshifted, for one tensor and for two concatenated ones."""
    from lcr_edge.model.lcr import QShift, q_shift_reference

    x, h = torch.randn(2, 2, grid * grid + 1, 16).unbind(0)
    assert torch.equal(QShift(grid)(x), q_shift_reference(x, grid))
    both = QShift(grid, parts=2)(torch.cat([x, h], -1))
    assert torch.equal(both, torch.cat([q_shift_reference(x, grid), q_shift_reference(h, grid)], -1))
    if grid == 3:  # the centre token's quarters come from its left, right, upper, lower neighbour
        g = torch.arange(10.0)[None, :, None].expand(1, 10, 4)
        shifted = QShift(3)(g)[0]
        assert shifted[4].tolist() == [3.0, 5.0, 1.0, 7.0]
        assert shifted[0].tolist() == [0.0, 1.0, 0.0, 3.0]  # corner: left and top are off-grid
        assert shifted[9].tolist() == [9.0] * 4  # CLS


def test_q_shift_gradient_equals_the_reference():
    """Training backpropagates through the Gather (a scatter-add) to the same gradient."""
    from lcr_edge.model.lcr import QShift, q_shift_reference

    x = torch.randn(2, 50, 8, requires_grad=True)
    w = torch.randn(2, 50, 8)
    (g1,) = torch.autograd.grad((QShift(7)(x) * w).sum(), x)
    (g2,) = torch.autograd.grad((q_shift_reference(x, 7) * w).sum(), x)
    assert torch.equal(g1, g2)
