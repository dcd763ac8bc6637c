"""The streaming step as a module with tensor inputs and outputs only: what gets exported.

    StepModule(model)(frame [B,3,S,S], edge [B,1,S,S], state [depth,2,B,T,C])
        -> (logits [B,K], new_state [depth,2,B,T,C])

Over a clip it runs as any step does: `lcr_edge.model.lcr.rollout(step, frames, edges)`.
"""

from __future__ import annotations

import torch

from lcr_edge.model import LCR


class StepModule(torch.nn.Module):
    """`model.step` as `forward`, so exporters and NNCF see one plain graph."""

    def __init__(self, model: LCR):
        super().__init__()
        self.model = model

    def forward(self, frame: torch.Tensor, edge: torch.Tensor, state: torch.Tensor):
        return self.model.step(frame, edge, state)


def example_inputs(model: LCR, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Batch-1 inputs of the exported shapes: a random frame, a sparse 0/1 edge map, zero state."""
    g = torch.Generator().manual_seed(seed)
    S = model.config.image_size
    frame = torch.randn(1, 3, S, S, generator=g)
    edge = (torch.rand(1, 1, S, S, generator=g) > 0.85).float()
    return frame, edge, model.initial_state(1)

