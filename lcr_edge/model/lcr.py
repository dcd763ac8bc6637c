"""LSTM-CrossRWKV (LCR), as we read the paper (arXiv 2411.05636, eqs. 1-12; departures: docs/model.md).

One frame at a time, per layer (unit) l, with U the unit's input tokens (frame tokens for l = 0,
H_t of the unit below after that), E_t the edge tokens and (H, C) the unit's state:

    a_t = CrossRWKV(LN(U), H_{t-1}, E_t)                      eqs. 2-5 (K, V from LN(U) + H_{t-1} + E_t)
    Z   = U + a_t
    A_t = Z + ChannelMix(LN(Z))                               eqs. 6-8
    C_t = E_t * (tanh(A_t) + C_{t-1}) + C_{t-1}               eq. 10 ("paper" cell)
      or  f = sigmoid(E_t + b_f); C_t = f*C_{t-1} + (1-f)*tanh(A_t)   ("bounded" cell)
    H_t = tanh(C_t) * sigmoid(A_t)                            eq. 11
    logits = W_class LN(concat(H_t[CLS], C_t[CLS])) of the last unit   eq. 12 (head="cls")
      or   W_class LN(concat(mean H_t, mean C_t))                      (head="mean")
      or   W_class LN(concat(max H_t, max C_t))                        (head="max", default)

The frame tokens X_t are the patches of x_t (eq. 1, motion="none") or of x_t - x_{t-1}
(motion="diff", the default: docs/model.md, departure 4); with "diff" the state holds the previous
frame's patches too. `create_model("lcr-s")` builds the recipe `lcr-edge train` trains (LCRConfig's
defaults), `create_model("lcr-s-paper")` the paper's as written (PAPER_RECIPE).

`step(frame, edge, state)` (streaming) runs one frame. `rollout(step, frames, edges)` runs any such
step over a clip, state carried: the one loop over time. `forward(frames, edges)` (training)
batches what does not depend on the state (the patch and edge embeddings) over all frames, then
rolls `LCR.recur` (the units on one frame's tokens, which `step` calls too) over them; a test holds
forward, step and the rollout equal.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from lcr_edge.errors import LCRError
from lcr_edge.model.wkv import BLOCK, bi_wkv, matmul_min_decay


@dataclass
class LCRConfig:
    variant: str = "lcr"
    num_classes: int = 27
    image_size: int = 112
    patch_size: int = 8
    dim: int = 384  # C, the hidden width
    depth: int = 2  # stacked LCR units, each with its own (H, C)
    heads: int = 4  # Bi-WKV heads; head size N = dim / heads
    mlp_ratio: int = 4  # channel-mix hidden width = mlp_ratio * dim
    # The recipe: these defaults are the one `lcr-edge train` trains and the bundled model ships
    # (docs/model.md, departures 2-5); PAPER_RECIPE is the paper's literal one.
    cell: str = "bounded"  # "bounded" (convex forget gate) or "paper" (eq. 10 literally)
    head: str = "max"  # "max" or "mean" over all tokens, or "cls" (eq. 12: H, C of the CLS token)
    motion: str = "diff"  # "diff" (patches of x_t - x_{t-1}) or "none" (eq. 1: patches of x_t)
    stem: str = "conv"  # "conv" (ConvStem) or "patch" (eq. 1: one P x P linear patch embedding)

    def __post_init__(self):
        if self.cell not in ("paper", "bounded"):
            raise LCRError(f"cell must be 'paper' or 'bounded', got {self.cell!r}")
        if self.head not in ("cls", "mean", "max"):
            raise LCRError(f"head must be 'cls', 'mean' or 'max', got {self.head!r}")
        if self.motion not in ("none", "diff"):
            raise LCRError(f"motion must be 'none' or 'diff', got {self.motion!r}")
        if self.stem not in ("patch", "conv"):
            raise LCRError(f"stem must be 'patch' or 'conv', got {self.stem!r}")
        if self.stem == "conv" and self.patch_size != 8:
            raise LCRError(f"the conv stem downsamples by 8; patch_size must be 8, got {self.patch_size}")
        if self.dim % self.heads or self.dim % 4:
            raise LCRError(f"dim {self.dim} must divide by heads ({self.heads}) and by 4 (Q-Shift)")
        if self.image_size % self.patch_size:
            raise LCRError(f"image_size {self.image_size} must be a multiple of the patch size")

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size

    @property
    def tokens(self) -> int:  # grid^2 patches + one CLS token at the end
        return self.grid * self.grid + 1

    @property
    def slots(self) -> int:
        """State tensors per unit: H and C; with motion="diff" a third, whose unit-0 entry holds the
        previous frame's patch embedding (zeros for the other units)."""
        return 3 if self.motion == "diff" else 2

    @property
    def state_shape(self) -> tuple[int, ...]:
        """Shape of the state for batch 1: (depth, slots, batch, tokens, dim)."""
        return (self.depth, self.slots, 1, self.tokens, self.dim)

    def to_dict(self) -> dict:
        return asdict(self)


# Paper Table 1, the 112x112 / patch 8 models for Jester, with the paper's parameter counts.
SIZES: dict[str, dict] = {
    "lcr-s": dict(dim=192, depth=1, heads=4),
    "lcr": dict(dim=384, depth=2, heads=4),
    "lcr-l": dict(dim=384, depth=4, heads=4),
}
PAPER_PARAMS_M = {"lcr-s": 0.82, "lcr": 5.14, "lcr-l": 9.97}
# The paper's recipe as written: eq. 10's cell, eq. 12's CLS head, eq. 1's 8 x 8 projection of x_t.
PAPER_RECIPE = dict(cell="paper", head="cls", motion="none", stem="patch")
# The registry: each size with the recipe that ships ("lcr-s", LCRConfig's defaults) and with the
# paper's ("lcr-s-paper").
VARIANTS: dict[str, dict] = {**SIZES, **{f"{name}-paper": {**size, **PAPER_RECIPE}
                                         for name, size in SIZES.items()}}


def create_model(name: str = "lcr", **overrides) -> LCR:
    """A named variant from the registry, with config fields overridden.

    >>> m = create_model("lcr-s", num_classes=5).config
    >>> m.dim, m.head, m.motion, m.stem
    (192, 'max', 'diff', 'conv')
    >>> create_model("lcr-s-paper").config.head
    'cls'
    """
    if name not in VARIANTS:
        raise LCRError(f"unknown variant {name!r}; choose one of {', '.join(VARIANTS)}")
    fields = LCRConfig.__dataclass_fields__
    bad = [k for k in overrides if k not in fields]
    if bad:
        raise LCRError(f"unknown config field(s) {bad}; valid: {', '.join(fields)}")
    return LCR(LCRConfig(**{"variant": name, **VARIANTS[name], **overrides}))


class QShift(nn.Module):
    """Vision-RWKV's quad-directional token shift on the grid x grid patch tokens; CLS unshifted.

    x: (B, grid*grid + 1, C), or `parts` such tensors concatenated on channels, each shifted on its
    own. Channel quarters come from the left, right, upper and lower neighbour; zero at the
    borders. One Gather of (token, quarter) rows and a 0/1 mask: in ONNX and OpenVINO that is 2
    ops where pad + slice + concat (`q_shift_reference`) was 12 (LCR-S INT8: 16 % faster)."""

    def __init__(self, grid: int, parts: int = 1):
        super().__init__()
        T, Q = grid * grid + 1, 4 * parts
        t = torch.arange(T)[:, None].expand(T, Q)
        quarter = torch.arange(Q)[None, :].expand(T, Q)
        row, col = t // grid, t % grid
        direction = quarter % 4  # 0: from the left, 1: from the right, 2: from above, 3: from below
        step = torch.tensor([-1, 1, -grid, grid])[direction]
        inside = torch.stack([col > 0, col < grid - 1, row > 0, row < grid - 1]).gather(0, direction[None])[0]
        is_cls = t == grid * grid
        source = torch.where(inside & ~is_cls, t + step, t)  # off-grid and CLS read themselves...
        # ...then off-grid is zeroed. Tables, not parameters: not in the state dict.
        self.register_buffer("index", (source * Q + quarter).reshape(-1), persistent=False)
        self.register_buffer("valid", ((inside | is_cls).float())[..., None], persistent=False)
        self.quarters = Q

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        Q = self.quarters
        rows = x.reshape(B, T * Q, C // Q).index_select(1, self.index)
        return (rows.view(B, T, Q, C // Q) * self.valid.to(x.dtype)).view(B, T, C)


def q_shift_reference(x: torch.Tensor, grid: int) -> torch.Tensor:
    """`QShift` written with pad + slice + cat, the plain form a test holds it equal to."""
    B, T, C = x.shape
    q = C // 4
    g = x[:, : grid * grid].reshape(B, grid, grid, C)
    from_left = F.pad(g[:, :, :-1, 0:q], (0, 0, 1, 0))
    from_right = F.pad(g[:, :, 1:, q : 2 * q], (0, 0, 0, 1))
    from_up = F.pad(g[:, :-1, :, 2 * q : 3 * q], (0, 0, 0, 0, 1, 0))
    from_down = F.pad(g[:, 1:, :, 3 * q :], (0, 0, 0, 0, 0, 1))
    shifted = torch.cat([from_left, from_right, from_up, from_down], dim=-1)
    return torch.cat([shifted.reshape(B, grid * grid, C), x[:, grid * grid :]], dim=1)


def mix(x: torch.Tensor, shifted: torch.Tensor, mu: torch.Tensor) -> torch.Tensor:
    """Blend a token with its Q-shifted neighbours by learned per-channel factors mu."""
    return x + mu * (shifted - x)


class CrossRWKV(nn.Module):
    """The Cross RWKV gate (eqs. 2-5): R, G from (x_t, h_{t-1}); K, V from the edge-prompted stream."""

    def __init__(self, cfg: LCRConfig, layer: int):
        super().__init__()
        C, H = cfg.dim, cfg.heads
        self.heads = H
        self.shift, self.shift_pair = QShift(cfg.grid), QShift(cfg.grid, parts=2)
        # "causal conv" over (x_t, h_{t-1}) = a kernel-2 convolution in time = one linear map of
        # both (eq. 2); each of R, G, K, V has its own Q-Shift mix factors.
        self.mu_r = nn.Parameter(torch.full((2, C), 0.5))
        self.mu_g = nn.Parameter(torch.full((2, C), 0.5))
        self.mu_k = nn.Parameter(torch.full((C,), 0.5))
        self.mu_v = nn.Parameter(torch.full((C,), 0.5))
        self.receptance = nn.Linear(2 * C, C, bias=False)
        self.gate = nn.Linear(2 * C, C, bias=False)
        self.key = nn.Linear(C, C, bias=False)
        self.value = nn.Linear(C, C, bias=False)
        self.output = nn.Linear(C, C, bias=False)
        self.ln_x = nn.GroupNorm(H, C)  # "LN on each head separately" (eq. 4)
        # w = exp(-exp(omega)) spread from weak (w ~ 0.998) to strong (w ~ 0.07) decay over the
        # channels of each head, as RWKV initialises its time decay; u (the bonus) at 0.5.
        ramp = torch.linspace(-6.0, 1.0, C // H)
        self.omega = nn.Parameter(ramp.repeat(H, 1) + 0.1 * layer)
        self.bonus = nn.Parameter(torch.full((H, C // H), 0.5))

    # The strongest decay we allow, w >= 4.6e-4 (omega <= 2.04): a channel that forgets faster
    # than that mixes in its neighbours' w^1 <= 4.6e-4 only. It keeps Bi-WKV's diagonal blocks in
    # their matmul form always, so torch.compile and ONNX export take it too (lcr_edge.model.wkv).
    OMEGA_MAX = math.log(-math.log(matmul_min_decay(BLOCK)))

    def decay(self) -> torch.Tensor:
        """The per-channel decay w = exp(-exp(omega)) in [4.6e-4, 1), [heads, head size]."""
        return torch.exp(-torch.exp(self.omega.clamp(max=self.OMEGA_MAX)))

    def forward(self, x, h_prev, e):
        """x: LN'd unit input, h_prev: H_{t-1}, e: edge tokens E_t; all (B, T, C) -> a_t.

        K and V read the edge-prompted stream x + H_{t-1} + E_t: the zero-initialised edge embedding
        (eq. 9) is a prompt added to a live stream, as ControlNet's zero convolutions are. K and V
        are the only way the CLS token sees the patches: taken from E_t alone, K = V = 0 at init
        is a saddle with no gradient for either and the frame never reaches the classifier; without
        H_{t-1}, the patches' memory never does (docs/model.md has the measurements)."""
        xh = torch.cat([x, h_prev], -1)  # R and G read [x_t, h_{t-1}], each part Q-shifted alone
        xhs = self.shift_pair(xh)
        p = x + h_prev + e
        ps = self.shift(p)
        r = self.receptance(mix(xh, xhs, self.mu_r.flatten()))
        g = self.gate(mix(xh, xhs, self.mu_g.flatten()))
        k = self.key(mix(p, ps, self.mu_k))  # eq. 3
        v = self.value(mix(p, ps, self.mu_v))
        B, T, C = r.shape
        split = (B, T, self.heads, C // self.heads)
        w = self.decay()
        y = bi_wkv(r.view(split), k.view(split), v.view(split), w, self.bonus, matmul_blocks=True)  # eq. 5
        y = self.ln_x(y.reshape(B * T, C)).view(B, T, C)
        return self.output(F.silu(g) * y)  # eq. 4


class ChannelMix(nn.Module):
    """Eqs. 6-8: A' = sigmoid(R') * (ReLU(K')^2 W_v'), R' and K' from Q-shifted tokens."""

    def __init__(self, cfg: LCRConfig):
        super().__init__()
        C, hidden = cfg.dim, cfg.mlp_ratio * cfg.dim
        self.shift = QShift(cfg.grid)
        self.mu_r = nn.Parameter(torch.full((C,), 0.5))
        self.mu_k = nn.Parameter(torch.full((C,), 0.5))
        self.receptance = nn.Linear(C, C, bias=False)
        self.key = nn.Linear(C, hidden, bias=False)
        self.value = nn.Linear(hidden, C, bias=False)

    def forward(self, z):
        zs = self.shift(z)
        k = torch.relu(self.key(mix(z, zs, self.mu_k))) ** 2
        return torch.sigmoid(self.receptance(mix(z, zs, self.mu_r))) * self.value(k)


class ConvStem(nn.Module):
    """stem="conv": three small convolutions in place of eq. 1's single 8 x 8 patch projection,
    (B, 3, S, S) -> (B, C, S/8, S/8) like it: 3x3/2 to 16 channels, 3x3/2 to 48, then a 2x2/2
    patchify to C, ReLU between. A linear 8 x 8 projection of a frame difference sees the hand's
    outline in one step; the 3D CNN that learned the synthetic set quickly had a conv hierarchy
    (docs/training.md). About 14 M multiply-accumulates at 112 x 112, twice the patch projection."""

    def __init__(self, dim: int):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(16, 48, 3, stride=2, padding=1)
        self.proj = nn.Conv2d(48, dim, 2, stride=2)
        for conv in (self.conv1, self.conv2):
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            nn.init.zeros_(conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(torch.relu(self.conv2(torch.relu(self.conv1(x)))))


class LCRUnit(nn.Module):
    """One LCR unit (Fig. 3a): Cross RWKV gate, channel mix, edge-gated LSTM cell."""

    def __init__(self, cfg: LCRConfig, layer: int):
        super().__init__()
        self.cell = cfg.cell
        self.ln1 = nn.LayerNorm(cfg.dim)
        self.ln2 = nn.LayerNorm(cfg.dim)
        self.gate = CrossRWKV(cfg, layer)
        self.channel_mix = ChannelMix(cfg)
        if cfg.cell == "bounded":
            # forget bias: sigmoid(1) = 0.73 keeps most of C_{t-1} at the start
            self.forget_bias = nn.Parameter(torch.ones(cfg.dim))

    def recur(self, u, e, h_prev, c_prev):
        """u: unit input, e: edge tokens E_t, (h_prev, c_prev): state. All (B, T, C) -> (H_t, C_t)."""
        z = u + self.gate(self.ln1(u), h_prev, e)
        a = z + self.channel_mix(self.ln2(z))
        if self.cell == "paper":
            c = e * (torch.tanh(a) + c_prev) + c_prev  # eq. 10, literally
        else:
            f = torch.sigmoid(e + self.forget_bias)  # edges still drive the forget gate
            c = f * c_prev + (1.0 - f) * torch.tanh(a)  # |C| <= 1 for ever
        h = torch.tanh(c) * torch.sigmoid(a)  # eq. 11
        return h, c


class LCR(nn.Module):
    """The LCR network. Use `create_model(name)` for the paper's variants."""

    def __init__(self, cfg: LCRConfig):
        super().__init__()
        self.config = cfg
        C, P, n = cfg.dim, cfg.patch_size, cfg.grid * cfg.grid
        if cfg.stem == "conv":
            self.patch_embed = ConvStem(C)
        else:
            self.patch_embed = nn.Conv2d(3, C, P, stride=P)  # eq. 1 (per frame: 1 x P x P)
        self.pos_embed = nn.Parameter(torch.randn(1, n, C) * 0.02)
        self.cls_token = nn.Parameter(torch.randn(1, 1, C) * 0.02)
        self.edge_embed = nn.Conv2d(1, C, P, stride=P)  # eq. 9: zero-initialised ("Z")
        nn.init.zeros_(self.edge_embed.weight)
        nn.init.zeros_(self.edge_embed.bias)
        self.edge_cls = nn.Parameter(torch.zeros(1, 1, C))
        self.units = nn.ModuleList(LCRUnit(cfg, i) for i in range(cfg.depth))
        self.head_norm = nn.LayerNorm(2 * C)
        self.head = nn.Linear(2 * C, cfg.num_classes)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    # -- embeddings (batched over all frames in training) ------------------------------------
    def patches(self, frames: torch.Tensor) -> torch.Tensor:
        """frames (N, 3, S, S) -> patch embeddings (N, grid*grid, C), eq. 1 without position."""
        return self.patch_embed(frames).permute(0, 2, 3, 1).flatten(1, 2)  # NHWC: no copy in OpenVINO

    def embed(self, patches: torch.Tensor, edges: torch.Tensor, keep: torch.Tensor | None = None,
              previous: torch.Tensor | None = None):
        """patches (N, n, C) from `patches`, edges (N, 1, S, S) -> frame tokens X, edge tokens E,
        (N, T, C). previous: the previous frame's patches (motion="diff"; zeros before the first).

        keep (N, grid*grid) of 0/1 masks patch tokens (tube masking); CLS is always kept."""
        if self.config.motion == "diff":
            # patches of x_t - x_{t-1}, a causal 2 x P x P tubelet (the conv is linear): the change
            # is where the gesture is; raw pixels let LCR-S memorise backgrounds (docs/training.md).
            # An all-zero `previous` is a fresh stream (real patches never are): its change is 0.
            fresh = previous.abs().amax(dim=(1, 2), keepdim=True) == 0
            patches = patches - torch.where(fresh, patches, previous)
        x = patches + self.pos_embed  # eq. 1
        e = self.edge_embed(edges).permute(0, 2, 3, 1).flatten(1, 2)
        if keep is not None:
            x, e = x * keep[..., None], e * keep[..., None]
        n = x.shape[0]
        x = torch.cat([x, self.cls_token.expand(n, -1, -1)], dim=1)  # CLS appended at the end
        e = torch.cat([e, self.edge_cls.expand(n, -1, -1)], dim=1)
        return x, e

    def classify(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """Eq. 12 on the last unit's state: H and C of the CLS token (head="cls"), or averaged over
        all tokens (head="mean"; the CLS token sees the patches only through Bi-WKV's
        linear pooling and learned nothing in 150 steps of a task the mean head solves; docs/model.md)."""
        if self.config.head == "cls":
            h, c = h[:, -1], c[:, -1]
        elif self.config.head == "max":  # the hand is a few of 196 patches: max keeps it, mean dilutes it
            h, c = h.amax(dim=1), c.amax(dim=1)
        else:
            h, c = h.mean(dim=1), c.mean(dim=1)
        return self.head(self.head_norm(torch.cat([h, c], dim=-1)))

    # -- streaming ----------------------------------------------------------------------------
    def initial_state(self, batch: int = 1, device=None, dtype=torch.float32) -> torch.Tensor:
        """Zeros of shape (depth, slots, batch, tokens, dim): H and C of every unit (and with
        motion="diff" the previous frame's patches)."""
        cfg = self.config
        return torch.zeros(cfg.depth, cfg.slots, batch, cfg.tokens, cfg.dim, device=device, dtype=dtype)

    def check_input(self, frames: torch.Tensor, edges: torch.Tensor, lead: int):
        S = self.config.image_size
        want_f, want_e = (3, S, S), (1, S, S)
        if frames.dim() != lead + 3 or tuple(frames.shape[lead:]) != want_f:
            raise LCRError(f"frames must be (..., 3, {S}, {S}) with {lead} leading dims, "
                           f"got {tuple(frames.shape)}")
        if tuple(edges.shape) != tuple(frames.shape[:lead]) + want_e:
            raise LCRError(f"edges must be {tuple(frames.shape[:lead]) + want_e}, "
                           f"got {tuple(edges.shape)}")
        if not frames.is_floating_point() or not edges.is_floating_point():
            raise LCRError(f"frames and edges must be float tensors (see lcr_edge.preprocess), "
                           f"got {frames.dtype} and {edges.dtype}")

    def recur(self, x: torch.Tensor, e: torch.Tensor, hc: tuple[list, list]):
        """One frame's tokens through the units: x, e (B, tokens, C) from `embed`, hc the units' H
        and C as two lists -> (logits (B, classes), the new (H, C) lists). What `step` runs and what
        `forward` rolls over the frames (the batched embeddings are the only difference)."""
        hs, cs, u = [], [], x
        for unit, h, c in zip(self.units, *hc, strict=True):
            h, c = unit.recur(u, e, h, c)
            hs.append(h)
            cs.append(c)
            u = h
        return self.classify(h, c), (hs, cs)

    def pack_state(self, hs: list, cs: list, patches: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """The units' H and C back into one state tensor; with motion="diff", slot 2 takes the last
        frame's patches (unit 0, padded to T tokens) and keeps `state`'s for the other units."""
        if self.config.motion != "diff":
            return torch.stack([torch.stack([h, c]) for h, c in zip(hs, cs, strict=True)])
        previous = [F.pad(patches, (0, 0, 0, 1))] + [state[i, 2] for i in range(1, len(hs))]
        return torch.stack([torch.stack([h, c, p]) for h, c, p in zip(hs, cs, previous, strict=True)])

    def step(self, frame: torch.Tensor, edge: torch.Tensor, state: torch.Tensor):
        """One frame: frame (B, 3, S, S), edge (B, 1, S, S), state from `initial_state`
        -> (logits (B, classes), new state)."""
        self.check_input(frame, edge, lead=1)
        n = self.config.grid ** 2
        p = self.patches(frame)
        diff = self.config.motion == "diff"
        x, e = self.embed(p, edge, previous=state[0, 2, :, :n] if diff else None)
        depth = range(len(self.units))
        logits, (hs, cs) = self.recur(x, e, ([state[i, 0] for i in depth], [state[i, 1] for i in depth]))
        return logits, self.pack_state(hs, cs, p, state)

    # -- training -----------------------------------------------------------------------------
    def forward(self, frames: torch.Tensor, edges: torch.Tensor, keep: torch.Tensor | None = None,
                state: torch.Tensor | None = None, return_state: bool = False):
        """frames (B, F, 3, S, S), edges (B, F, 1, S, S) -> logits for every frame (B, F, classes),
        and with return_state the state after the last frame (as `step` would leave it).

        keep (B, grid*grid): a tube mask, the same for every frame of a clip (training only)."""
        self.check_input(frames, edges, lead=2)
        B, Fr = frames.shape[:2]
        keep_all = None if keep is None else keep[:, None].expand(B, Fr, -1).reshape(B * Fr, -1)
        p = self.patches(frames.flatten(0, 1))
        if state is None:
            state = self.initial_state(B, frames.device, p.dtype)
        p = p.view(B, Fr, *p.shape[1:])
        previous = None
        if self.config.motion == "diff":  # each frame's predecessor; the state's for the first
            previous = torch.cat([state[0, 2, :, None, : p.shape[2]].to(p.dtype), p[:, :-1]], 1)
            previous = previous.flatten(0, 1)
        x, e = self.embed(p.flatten(0, 1), edges.flatten(0, 1), keep_all, previous)
        x, e = x.view(B, Fr, *x.shape[1:]), e.view(B, Fr, *e.shape[1:])
        depth = range(len(self.units))
        logits, (hs, cs) = rollout(self.recur, x, e, ([state[i, 0] for i in depth],
                                                      [state[i, 1] for i in depth]))
        if return_state:
            return logits, self.pack_state(hs, cs, p[:, -1], state)
        return logits

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def rollout(step, frames, edges, state=None):
    """A streaming step over whole clips, state carried from frame to frame: the one loop over time.

    step(frame, edge, state) -> (logits (B, K), new state): an LCR's `step`, a module holding the LCR
    as `.model` (quantize.step.StepModule, its fake-quantized copies), or `LCR.recur` on embedded
    tokens. frames (B, T, ...), edges (B, T, ...) -> (logits (B, T, K), the state after frame T).
    state: the state entering frame 0; None = a fresh stream (the LCR's `initial_state`)."""
    if state is None:
        owner = getattr(step, "__self__", None)
        model = owner if isinstance(owner, LCR) else step.model
        state = model.initial_state(frames.shape[0], frames.device)
    logits = []
    for t in range(frames.shape[1]):
        out, state = step(frames[:, t], edges[:, t], state)
        logits.append(out)
    return torch.stack(logits, dim=1), state


def tube_mask(batch: int, patches: int, ratio: float, generator=None, device=None) -> torch.Tensor:
    """A (batch, patches) 0/1 keep-mask dropping round(ratio * patches) random patches per clip;
    the same mask is used for every frame of the clip (a "tube")."""
    keep = torch.ones(batch, patches, device=device)
    n_drop = int(round(ratio * patches))
    if n_drop:
        scores = torch.rand(batch, patches, generator=generator, device=device)
        idx = scores.argsort(dim=1)[:, :n_drop]
        keep.scatter_(1, idx, 0.0)
    return keep


def count_macs(model: LCR) -> int:
    """Multiply-accumulates of one streaming step at batch 1, counted by torch's FLOP counter
    (matmuls, convolutions, batched matmuls: everything with a contraction), FLOPs / 2."""
    from torch.utils.flop_counter import FlopCounterMode

    S = model.config.image_size
    frame, edge = torch.zeros(1, 3, S, S), torch.zeros(1, 1, S, S)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model.step(frame, edge, model.initial_state(1))
    return counter.get_total_flops() // 2  # Bi-WKV runs in its matmul form (CrossRWKV.decay)
