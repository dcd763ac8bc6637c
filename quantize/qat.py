"""INT8 with NNCF: post-training quantization (PTQ) and quantization-aware fine-tuning (QAT).

    calibration triples (frame, edge, state) from FP32 rollouts over training clips
    -> nncf.quantize(StepModule)                       PTQ: fake-quantizers with calibrated ranges
    -> fine-tune through the step loop (BPTT)          QAT: weights and quantizer ranges learn
    -> to_native_fake_quant()                          NNCF quantizers -> torch.fake_quantize_*
    -> ONNX export (plain QuantizeLinear/DequantizeLinear) -> OpenVINO IR INT8 (stateless, stateful)

QAT trains the streaming step, not `forward(clip)`: the step is the graph that gets exported, so
each quantizer sees exactly the tensors it will see at run time (a quantized `forward` would get a
separate quantizer per frame of its loop).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable

import torch
import torch.nn.functional as F

from lcr_edge.model import LCR
from lcr_edge.model.lcr import rollout
from lcr_edge.quantize.step import StepModule


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


def clip_loss(step, frames, edges, labels, smoothing: float = 0.1, skip: int = 0, teacher=None,
              distill: float = 0.0):
    """Loss over the logits of the frames after `skip`, state carried -> (loss, logits [B,F,K]).

    (1 - distill) x label-smoothed cross-entropy + distill x KL(teacher || student) per frame,
    the teacher being the FP32 step module: distillation asks INT8 to answer as FP32 does, which is
    what quantization should preserve, instead of re-fitting the labels of the training split."""
    logits, _ = rollout(step, frames, edges)
    used = logits[:, skip:].reshape(-1, logits.shape[-1])
    loss = used.new_zeros(())
    if distill < 1.0:
        target = labels[:, None].expand(-1, logits.shape[1] - skip).reshape(-1)
        loss = loss + (1.0 - distill) * F.cross_entropy(used, target, label_smoothing=smoothing)
    if distill > 0.0:
        with torch.no_grad():
            soft = torch.softmax(rollout(teacher, frames, edges)[0][:, skip:], -1)
        loss = loss + distill * F.kl_div(F.log_softmax(used, -1), soft.reshape(used.shape),
                                         reduction="batchmean")
    return loss, logits


def fine_tune(qstep: torch.nn.Module, train_batches, epochs: int = 1, lr: float = 2e-5,
              max_steps: int | None = None, progress=None, teacher=None,
              distill: float = 0.0, holdout=None, check_every: int = 25) -> dict:
    """Quantization-aware fine-tuning of a fake-quantized StepModule (in place).

    A small cosine-decayed learning rate: the weights start from a trained checkpoint. With a
    teacher (the FP32 StepModule) and distill > 0 the loss is (partly) distillation (clip_loss).
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

    def check(step_i):
        nonlocal best
        loss = holdout_loss(qstep, holdout, teacher, distill)
        checks.append((step_i, loss))
        if best is None or loss < best[1]:
            best = (step_i, loss, copy.deepcopy(qstep.state_dict()))

    if holdout is not None:
        check(0)
    qstep.train()
    opt = torch.optim.AdamW(qstep.parameters(), lr=lr, weight_decay=0.0)
    total = max_steps or epochs * max(1, _len(train_batches))
    losses, step_i = [], 0
    done = False
    for _ in range(epochs):
        for frames, edges, labels in train_batches:
            if not len(labels):  # every clip of the batch unreadable
                continue
            device = next(qstep.parameters()).device
            frames, edges, labels = frames.to(device), edges.to(device), labels.to(device)
            for g in opt.param_groups:
                g["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step_i / max(1, total)))
            # as `lcr-edge train`: the loss averages the last half of the frames
            loss, _ = clip_loss(qstep, frames, edges, labels, skip=frames.shape[1] // 2,
                                teacher=teacher, distill=distill)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(qstep.parameters(), 1.0)
            opt.step()
            losses.append(float(loss.detach()))
            step_i += 1
            if progress is not None:
                progress(step_i, total, losses[-1])
            done = bool(max_steps and step_i >= max_steps)
            if holdout is not None and (step_i % check_every == 0 or done):
                check(step_i)
                qstep.train()
            if done:
                break
        if done:
            break
    if holdout is not None and checks[-1][0] != step_i:
        check(step_i)
    if best is not None:
        qstep.load_state_dict(best[2])
    qstep.eval()
    return {"losses": losses, "checks": checks, "kept_step": best[0] if best else None}


@torch.no_grad()
def holdout_loss(step, batches, teacher=None, distill: float = 0.0) -> float:
    """clip_loss of a step module over held-out batches, averaged per clip (no augmentation)."""
    step.eval()
    total, n = 0.0, 0
    for frames, edges, labels in batches:
        if not len(labels):
            continue
        device = next(step.parameters()).device
        frames, edges, labels = frames.to(device), edges.to(device), labels.to(device)
        loss, _ = clip_loss(step, frames, edges, labels, skip=frames.shape[1] // 2,
                            teacher=teacher, distill=distill)
        total += float(loss) * len(labels)
        n += len(labels)
    return total / max(1, n)


def _len(x) -> int:
    try:
        return len(x)
    except TypeError:
        return 1


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
