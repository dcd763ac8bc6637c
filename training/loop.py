"""One training loop, for `lcr-edge train`, `lcr-edge finetune` and QAT (`quantize.qat.fine_tune`).

    optimizer = AdamW(param groups)                   each group's "lr" is its peak
    for each epoch, for each batch of batches(epoch):
        lr = Schedule.rate(peak, step, progress)      linear warm-up, then a half cosine to a floor
        loss = loss_fn(batch, step)                   the caller's: what one batch costs
        backward, clip the gradient norm, AdamW step
        on_checkpoint(state)                          every N steps or seconds, and where a budget
                                                      stops the run
        stop where the Budget (epochs, steps, seconds) is spent
    on_epoch(state) after each epoch, also after one a budget cut short

The caller brings the module, its batches, param groups and loss, and what to do at checkpoints
and epoch ends; the loop brings their order, the schedule, the budget, resuming inside an epoch
and the progress bar. A loss is any callable batch -> `BatchLoss`: a clip's cross-entropy over its
last frames (`clip_batch_loss`, what train and finetune minimise), distillation from a teacher
step (QAT), or a chunk of a long stream whose state the loss carries on to the next chunk.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F


def clip_loss(logits: torch.Tensor, labels: torch.Tensor, last: int, smoothing: float = 0.1,
              teacher: torch.Tensor | None = None, distill: float = 0.0) -> torch.Tensor:
    """The loss over the last `last` frames' logits (B, F, K) of clips labelled `labels` (B,):
    label-smoothed cross-entropy; with a teacher's logits (B, F, K) and distill > 0,
    (1 - distill) x that + distill x KL(teacher || student) per frame (QAT: INT8 asked to answer
    as FP32 does)."""
    tail = logits[:, -last:]
    flat = tail.reshape(-1, tail.shape[-1]).float()
    loss = 0.0
    if distill < 1.0:
        target = labels[:, None].expand(-1, tail.shape[1]).reshape(-1)
        loss = loss + (1.0 - distill) * F.cross_entropy(flat, target, label_smoothing=smoothing)
    if distill > 0.0:
        soft = torch.softmax(teacher[:, -last:].float(), -1).reshape(flat.shape)
        loss = loss + distill * F.kl_div(F.log_softmax(flat, -1), soft, reduction="batchmean")
    return loss


class BatchLoss(NamedTuple):
    """What a loss function returns for one batch."""

    loss: torch.Tensor | None  # the scalar to minimise; None: nothing to learn from (all unreadable)
    clips: int = 0  # clips it covers: the weight of its loss in the epoch's mean
    right: Any = 0  # of those, how many the last frame's top class gets right (int or tensor)
    skipped: int = 0  # unreadable clips dropped from the batch


def clip_batch_loss(net, last: int, smoothing: float, device="cpu", autocast=None, mask=None):
    """The loss of `lcr-edge train` and `finetune` for `fit`: LCR.forward over each clip of a
    training.data batch (under bf16 autocast when `autocast`), `clip_loss` over its last `last`
    frames. mask(step, clips) -> a tube mask (or None) for the batch."""
    device = torch.device(device)

    def loss_fn(batch, step: int) -> BatchLoss:
        if not len(batch.labels):
            return BatchLoss(None, skipped=len(batch.skipped))
        frames, edges, labels = batch.frames.to(device), batch.edges.to(device), batch.labels.to(device)
        keep = mask(step, len(labels)) if mask is not None else None
        with torch.autocast(device_type=device.type, dtype=autocast, enabled=autocast is not None):
            logits = net(frames, edges, keep=keep)
        loss = clip_loss(logits, labels, last, smoothing)
        right = (logits[:, -1].argmax(-1) == labels).sum()
        return BatchLoss(loss, len(labels), right, len(batch.skipped))

    return loss_fn


@dataclass
class Schedule:
    """The learning rate of a param group: its peak x a linear warm-up over the first `warmup`
    steps x a half cosine from 1 down to `floor`. The cosine runs over the `steps` after the
    warm-up; with steps = 0 over the budget's time, or its epochs where they run out first
    (finetune: a slow or busy machine still ends annealed)."""

    warmup: int = 0
    floor: float = 0.0
    steps: int = 0

    def rate(self, peak: float, step: int, progress: float) -> float:
        warm = min(1.0, (step + 1) / self.warmup) if self.warmup else 1.0
        cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, max(0.0, progress))))
        return peak * warm * (self.floor + (1.0 - self.floor) * cosine)


@dataclass
class Budget:
    """The loop stops after `epochs` passes, `steps` optimizer steps or `seconds` since its start,
    whichever comes first (None: no such limit)."""

    epochs: int | None = None
    steps: int | None = None
    seconds: float | None = None
    reserve: float = 0.0  # seconds kept for what follows the loop (finetune: the held-out pass)
    # True: stop before a step expected to end past `seconds - reserve` (a budget the user waits
    # for); False: stop after the step that spent it (train: a later --resume continues)
    finish_inside: bool = False

    def out_of_time(self, elapsed: float, step_seconds: float) -> bool:
        ahead = step_seconds + self.reserve if self.finish_inside else 0.0
        return self.seconds is not None and elapsed + ahead > self.seconds


@dataclass
class Totals:
    """An epoch's running sums (train saves them in a mid-epoch checkpoint)."""

    loss: float = 0.0  # each batch's loss x its clips
    right: int = 0
    clips: int = 0
    skipped: int = 0

    def add(self, loss: float, out: BatchLoss) -> None:
        self.loss += loss * out.clips
        self.right += int(out.right)
        self.clips += out.clips


@dataclass
class LoopState:
    """Where the loop is: what the callbacks, and the caller at the end, read."""

    optimizer: torch.optim.Optimizer
    start: float  # time.perf_counter() the time budget counts from
    epoch: int = 0  # the epoch running, from 0
    batch: int = 0  # its batches done (a resumed epoch counts those before the resume)
    batches: int | None = None  # its batches in all, where the batches have a length
    step: int = 0  # optimizer steps in all, from the first run on
    totals: Totals = field(default_factory=Totals)  # this epoch's
    losses: list[float] = field(default_factory=list)  # each step's loss, this run
    epoch_start: float = 0.0  # time.perf_counter() at the start of this epoch
    step_seconds: float = 0.0  # a running estimate of one step, its batch's loading included
    stopped: str = ""  # what ended the run before its epochs did: "steps" or "time"
    cut_short: bool = False  # the stop came inside an epoch

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]


def fit(module: torch.nn.Module, groups: list[dict], batches: Callable[[int, int], Iterable],
        loss_fn: Callable[[Any, int], BatchLoss], schedule: Schedule, budget: Budget, *,
        grad_clip: float = 1.0, start: float | None = None, resume: dict | None = None,
        checkpoint_steps: int = 0, checkpoint_seconds: float | None = None,
        on_checkpoint=None, on_epoch=None, on_step=None, bar: str | None = "") -> LoopState:
    """Train `module` (put in train mode at every epoch) with AdamW over `groups` (each with its
    peak "lr" and its "weight_decay") until `budget` is spent; returns the last `LoopState`.

    batches(epoch, done): the batches of `epoch` after its first `done` (resuming inside it).
    loss_fn(batch, step) -> BatchLoss. resume: {"epoch", "batch", "step", "totals", "optimizer"}
    from a checkpoint. on_checkpoint(state) every `checkpoint_steps` steps or `checkpoint_seconds`
    (0: every step) and where a budget stops the run inside an epoch; on_epoch(state) after each
    epoch (the epoch end counts as a checkpoint: it may save); on_step(state) after each step.
    on_checkpoint and on_epoch may evaluate the module: the loop puts it back in train mode.
    bar: a label for the progress bar (None: no bar); it counts the batches of each epoch, or
    with a schedule over time (steps = 0) the seconds of the budget."""
    optimizer = torch.optim.AdamW(groups)
    peaks = [g["lr"] for g in optimizer.param_groups]
    resume = resume or {}
    if resume.get("optimizer") is not None:
        optimizer.load_state_dict(resume["optimizer"])
    trained = {id(p) for g in optimizer.param_groups for p in g["params"]}
    params = [p for p in module.parameters() if id(p) in trained]  # the norm sums in module order
    first_epoch, first_batch = resume.get("epoch", 0), resume.get("batch", 0)
    state = LoopState(optimizer, time.perf_counter() if start is None else start,
                      step=resume.get("step", 0))
    progress_bar = ProgressBar(bar, budget, over_time=not schedule.steps)
    last_checkpoint = time.perf_counter()

    def progress() -> float:  # how far along the cosine is
        if schedule.steps:
            return (state.step - schedule.warmup) / max(1, schedule.steps - schedule.warmup)
        by_time = state.elapsed / budget.seconds if budget.seconds else 0.0
        return max(by_time, state.epoch / budget.epochs if budget.epochs else 0.0)

    epoch = first_epoch
    while budget.epochs is None or epoch < budget.epochs:
        state.epoch, state.batch = epoch, first_batch if epoch == first_epoch else 0
        data = batches(epoch, state.batch)
        state.batches = state.batch + len(data) if hasattr(data, "__len__") else None
        state.totals = (resume.get("totals") or Totals()) if epoch == first_epoch else Totals()
        state.epoch_start = tick = time.perf_counter()
        module.train()
        progress_bar.start_epoch(state)
        for batch in data:
            along = progress()
            for group, peak in zip(optimizer.param_groups, peaks, strict=True):
                group["lr"] = schedule.rate(peak, state.step, along)
            out = loss_fn(batch, state.step)
            state.batch += 1
            state.totals.skipped += out.skipped
            if out.loss is None:
                continue
            optimizer.zero_grad(set_to_none=True)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(params, grad_clip)
            optimizer.step()
            state.step += 1
            state.losses.append(float(out.loss.detach()))
            state.totals.add(state.losses[-1], out)
            now = time.perf_counter()
            took, tick = now - tick, now
            state.step_seconds = 0.7 * state.step_seconds + 0.3 * took if state.step_seconds else took
            if on_step is not None:
                on_step(state)
            progress_bar.update(state)
            if budget.steps is not None and state.step >= budget.steps:
                state.stopped = "steps"
            elif budget.out_of_time(now - state.start, state.step_seconds):
                state.stopped = "time"
            due = (checkpoint_steps and state.step % checkpoint_steps == 0) or (
                checkpoint_seconds is not None and now - last_checkpoint >= checkpoint_seconds)
            if on_checkpoint is not None and (due or state.stopped):
                on_checkpoint(state)
                module.train()  # a checkpoint may have evaluated the module
                last_checkpoint = time.perf_counter()
            if state.stopped:
                state.cut_short = True
                break
        progress_bar.end_epoch()
        if on_epoch is not None:
            on_epoch(state)
        last_checkpoint = time.perf_counter()
        epoch += 1
        more = budget.epochs is None or epoch < budget.epochs
        if not state.stopped and more and budget.out_of_time(state.elapsed, state.step_seconds):
            state.stopped = "time"
        if state.stopped:
            break
    progress_bar.close()
    return state


class ProgressBar:
    """The loop's bar (tqdm, on stderr, gone when done): the batches of each epoch, or the seconds
    of the time budget, with the epoch's mean loss, accuracy, clips a second and the learning rate."""

    def __init__(self, label: str | None, budget: Budget, over_time: bool):
        self.label, self.budget, self.bar = label, budget, None
        self.over_time = over_time and bool(budget.seconds)

    def start_epoch(self, state: LoopState) -> None:
        if self.label is None or self.over_time:
            return
        from tqdm import tqdm

        epochs = self.budget.epochs
        count = f"epoch {state.epoch + 1}" + (f"/{epochs}" if epochs else "")
        desc = " ".join(part for part in (self.label, count if epochs != 1 or not self.label else "")
                        if part)
        total = state.batches
        if total is not None and self.budget.steps is not None:
            total = min(total, state.batch + self.budget.steps - state.step)
        self.bar = tqdm(total=total, initial=state.batch, desc=desc, leave=False, dynamic_ncols=True)

    def update(self, state: LoopState) -> None:
        if self.label is None:
            return
        t = state.totals
        # significant digits, not decimals: QAT's distillation loss is ~1e-3 (it read 0.000)
        info = {"loss": f"{t.loss / max(1, t.clips):.3g}", "acc": f"{100 * t.right / max(1, t.clips):.1f}%",
                "clips_s": f"{t.clips / max(1e-9, time.perf_counter() - state.epoch_start):.1f}",
                "lr": f"{state.lr:.1e}"}
        if not self.over_time:
            self.bar.set_postfix(info, refresh=False)
            self.bar.update(1)
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=round(self.budget.seconds), unit="s", desc=self.label, leave=False,
                            dynamic_ncols=True, bar_format="{desc}: {percentage:3.0f}%|{bar}| "
                            "{n:.0f}/{total:.0f} s [{remaining} left{postfix}]")
        self.bar.n = min(round(self.budget.seconds), round(state.elapsed))
        self.bar.set_postfix({"epoch": state.epoch + 1, **info}, refresh=False)
        self.bar.refresh()

    def end_epoch(self) -> None:
        if not self.over_time:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
