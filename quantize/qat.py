"""INT8 with NNCF: post-training quantization (PTQ) and quantization-aware fine-tuning (QAT).

    calibration triples (frame, edge, state) from FP32 rollouts over training clips
    -> nncf.quantize(StepModule)                       PTQ: fake-quantizers with calibrated ranges
    -> fine-tune the step rolled over clips (BPTT)     QAT: weights and quantizer ranges learn
    -> to_native_fake_quant()                          NNCF quantizers -> torch.fake_quantize_*
    -> ONNX export (plain QuantizeLinear/DequantizeLinear) -> OpenVINO IR INT8 (stateless, stateful)

QAT trains the streaming step, not `forward(clip)`: the step is the graph that gets exported, so
each quantizer sees exactly the tensors it will see at run time (a quantized `forward` would get a
separate quantizer per frame of its loop).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import torch

from lcr_edge.model import LCR
from lcr_edge.model.lcr import rollout
from lcr_edge.quantize.step import StepModule
from lcr_edge.training.loop import BatchLoss, Budget, Schedule, clip_loss, fit


def calibration_items(model: LCR, batches: Iterable, max_items: int = 200, every: int = 4):
    """(frame [1,3,S,S], edge [1,1,S,S], state) triples with realistic states: the FP32 model is
    rolled over each clip and every `every`-th frame is kept (state = the one entering it)."""
    items, seen = [], 0
    device = next(model.parameters()).device

    def noting(frame, edge, state):  # model.step, keeping every `every`-th frame of the clip
        nonlocal seen
        if seen % every == 0 and len(items) < max_items:
            items.append((frame, edge, state))
        seen += 1
        return model.step(frame, edge, state)

    with torch.no_grad():
        for frames, edges, _ in batches:
            frames, edges = frames.to(device), edges.to(device)
            for b in range(frames.shape[0]):
                if len(items) >= max_items:
                    return items
                seen = 0
                rollout(noting, frames[b : b + 1], edges[b : b + 1], model.initial_state(1, device))
    return items


def ignored_scope():
    """Quantize the Linear and Conv layers (almost all MACs) and keep the rest in float: Bi-WKV's
    block products (matmul, mul, sum) mix exponentially decayed values whose range INT8 would
    crush, and INT8 there put slow int8 Transposes between them in OpenVINO (measured)."""
    import nncf

    return nncf.IgnoredScope(types=["matmul", "mul", "sum"], validate=False)


def quantize_ptq(model: LCR, items: list, wkv_int8: bool = False) -> torch.nn.Module:
    """NNCF post-training quantization of the streaming step -> a fake-quantized StepModule."""
    import nncf
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters, OverflowFix

    step = StepModule(copy.deepcopy(model).eval())
    advanced = AdvancedQuantizationParameters(overflow_fix=OverflowFix.DISABLE)  # VNNI: no overflow
    return nncf.quantize(step, nncf.Dataset(items), subset_size=len(items),
                         model_type=nncf.ModelType.TRANSFORMER, advanced_parameters=advanced,
                         ignored_scope=None if wkv_int8 else ignored_scope())


def rollout_loss(step, batch, teacher=None, distill: float = 0.0):
    """`clip_loss` of a step module rolled over a batch's clips (frames, edges, labels), state
    carried -> (loss, logits [B,F,K]). As `lcr-edge train`, the loss averages the last half of the
    frames; with a teacher (the FP32 step module) and distill > 0 it is (partly) distillation:
    INT8 asked to answer as FP32 does, which is what quantization should preserve, instead of
    re-fitting the labels of the training split."""
    device = next(step.parameters()).device
    frames, edges, labels = (t.to(device) for t in batch)
    logits, _ = rollout(step, frames, edges)
    soft = None
    if distill > 0.0:
        with torch.no_grad():
            soft, _ = rollout(teacher, frames, edges)
    last = frames.shape[1] - frames.shape[1] // 2
    return clip_loss(logits, labels, last, 0.1, soft, distill), logits


def fine_tune(qstep: torch.nn.Module, train_batches, epochs: int = 1, lr: float = 2e-5,
              max_steps: int | None = None, teacher=None, distill: float = 0.0, holdout=None,
              check_every: int = 25) -> dict:
    """Quantization-aware fine-tuning of a fake-quantized StepModule (in place), in the training
    loop (training.loop.fit): AdamW without weight decay, a small cosine-decayed learning rate
    (the weights start from a trained checkpoint), the loss of `rollout_loss`.

    With `holdout` batches (training clips QAT does not train on) the holdout loss is measured
    before the first step and every `check_every` steps, and the weights with the lowest one are
    kept: PTQ already answers much as FP32 does, and a step that makes the answers worse on clips
    it did not see is not kept (step 0, the PTQ weights, can win).
    -> {"losses": per batch, "checks": [(step, holdout loss)], "kept_step": step or None}"""
    if distill > 0.0 and teacher is None:
        raise ValueError("distill > 0 needs the FP32 teacher")
    if teacher is not None:
        teacher.eval()
    checks, best = [], None

    def check(step_i: int):
        nonlocal best
        loss = holdout_loss(qstep, holdout, teacher, distill)
        checks.append((step_i, loss))
        if best is None or loss < best[1]:
            best = (step_i, loss, copy.deepcopy(qstep.state_dict()))

    def loss_fn(batch, step_i: int) -> BatchLoss:
        _, _, labels = batch
        if not len(labels):
            return BatchLoss(None)
        loss, logits = rollout_loss(qstep, batch, teacher, distill)
        return BatchLoss(loss, len(labels), (logits[:, -1].argmax(-1) == labels.to(logits.device)).sum())

    if holdout is not None:
        check(0)
    per_epoch = len(train_batches) if hasattr(train_batches, "__len__") else 1
    total = max_steps or epochs * max(1, per_epoch)
    state = fit(qstep, [{"params": list(qstep.parameters()), "lr": lr, "weight_decay": 0.0}],
                lambda epoch, done: train_batches, loss_fn, Schedule(steps=total),
                Budget(epochs=epochs, steps=max_steps),
                checkpoint_steps=check_every if holdout is not None else 0,
                on_checkpoint=(lambda s: check(s.step)) if holdout is not None else None, bar="QAT")
    if holdout is not None and checks[-1][0] != state.step:
        check(state.step)
    if best is not None:
        qstep.load_state_dict(best[2])
    qstep.eval()
    return {"losses": state.losses, "checks": checks, "kept_step": best[0] if best else None}


@torch.no_grad()
def holdout_loss(step, batches, teacher=None, distill: float = 0.0) -> float:
    """`rollout_loss` of a step module over held-out batches, averaged per clip (no augmentation)."""
    step.eval()
    total, n = 0.0, 0
    for batch in batches:
        _, _, labels = batch
        if not len(labels):
            continue
        loss, _ = rollout_loss(step, batch, teacher, distill)
        total += float(loss) * len(labels)
        n += len(labels)
    return total / max(1, n)


class NativeFakeQuant(torch.nn.Module):
    """torch.fake_quantize_per_{tensor,channel}_affine with fixed parameters: exports to plain
    ONNX QuantizeLinear/DequantizeLinear and to OpenVINO FakeQuantize.

    A narrow-range quantizer (NNCF's weights: [-127, 127]) is a clamp to the narrow range followed
    by an ordinary [-128, 127] one, the same numbers in the levels ONNX allows."""

    def __init__(self, quant_min: int, quant_max: int, scale, zero_point, axis: int | None,
                 clamp: tuple | None = None):
        super().__init__()
        self.quant_min, self.quant_max, self.axis = int(quant_min), int(quant_max), axis
        if axis is None:  # python numbers: the exporter must not see a data-dependent .item()
            self.scale_f, self.zero_point_i = float(scale), int(zero_point)
        else:
            self.register_buffer("scale", scale.detach().float().clone())
            self.register_buffer("zero_point", zero_point.detach().to(torch.int32).clone())
        self.clamp = clamp is not None
        if self.clamp:
            self.register_buffer("low", clamp[0].detach().float().clone())
            self.register_buffer("high", clamp[1].detach().float().clone())

    def forward(self, x):
        if self.clamp:
            x = torch.minimum(torch.maximum(x, self.low), self.high)
        if self.axis is None:
            return torch.fake_quantize_per_tensor_affine(
                x, self.scale_f, self.zero_point_i, self.quant_min, self.quant_max)
        return torch.fake_quantize_per_channel_affine(
            x, self.scale, self.zero_point, self.axis, self.quant_min, self.quant_max)


@torch.no_grad()
def to_native_fake_quant(qstep: torch.nn.Module) -> torch.nn.Module:
    """A copy of an NNCF-quantized model with every NNCF quantizer replaced by NativeFakeQuant
    (NNCF's quantizers export as custom ops; torch's fake_quantize as standard QDQ)."""
    from nncf.torch.function_hook.wrapper import get_hook_storage
    from nncf.torch.quantization.layers import BaseQuantizer

    model = copy.deepcopy(qstep).eval().cpu()  # exported from the CPU
    storage = get_hook_storage(model)
    for name, q in list(storage.named_hooks()):
        if not isinstance(q, BaseQuantizer):
            continue
        q.set_levels()
        qmin, qmax, scale, zp = q.get_parameters_for_torch_fq()
        axis, clamp = None, None
        if q.per_channel:
            axis = max(range(len(q.scale_shape)), key=lambda i: q.scale_shape[i])
            view = list(q.scale_shape)
        else:
            scale, zp = scale.reshape(()), zp.reshape(())
            view = []
        if (qmin, qmax) != (q.level_low, q.level_high):  # narrow range: clamp first
            s, z = scale.reshape(view), zp.reshape(view).float()
            clamp = (s * (q.level_low - z), s * (q.level_high - z))
        storage.set_submodule(name, NativeFakeQuant(qmin, qmax, scale, zp, axis, clamp))
    return model


def count_quantizers(qstep: torch.nn.Module) -> dict:
    """{"weights": n, "activations": n} fake-quantizers in an NNCF or native model."""
    from nncf.torch.function_hook.hook_storage import decode_hook_name
    from nncf.torch.function_hook.wrapper import get_hook_storage
    from nncf.torch.quantization.layers import BaseQuantizer

    counts = {"weights": 0, "activations": 0}
    for name, module in get_hook_storage(qstep).named_hooks():
        if isinstance(module, (BaseQuantizer, NativeFakeQuant)):
            hook_type, _, port = decode_hook_name(name)
            counts["weights" if hook_type == "pre_hooks" and port == 1 else "activations"] += 1
    return counts
