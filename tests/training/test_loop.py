"""training.loop: the schedule, the budgets, checkpoints and resuming, on a tiny linear model."""

import math
from functools import partial
from itertools import count
from types import SimpleNamespace

import pytest
import torch

from lcr_edge.training import loop
from lcr_edge.training.loop import BatchLoss, Budget, Schedule, Totals, clip_loss, fit


def test_the_schedule_warms_up_then_anneals_to_its_floor():
    s = Schedule(warmup=4, floor=0.01, steps=104)
    rates = [s.rate(2.0, step, (step - 4) / 100) for step in range(105)]
    assert rates[:4] == [0.5, 1.0, 1.5, 2.0]  # linear warm-up to the peak
    assert rates[54] == pytest.approx(2.0 * (0.01 + 0.99 * 0.5))  # half-way down the cosine
    assert rates[104] == pytest.approx(0.02) and min(rates) == rates[104]
    assert all(a >= b for a, b in zip(rates[3:], rates[4:], strict=False))
    # finetune's: the warm-up multiplies the cosine, which runs over time
    assert Schedule(warmup=3, floor=0.02).rate(1.0, 0, 0.5) == pytest.approx((0.02 + 0.98 * 0.5) / 3)
    assert Schedule().rate(1.0, 7, 1.5) == 0.0  # progress is clamped: the end is the floor


def test_clip_loss_is_cross_entropy_over_the_last_frames_or_distillation():
    logits = torch.randn(2, 5, 3)
    labels = torch.tensor([0, 2])
    ce = torch.nn.functional.cross_entropy(logits[:, -2:].reshape(-1, 3), labels.repeat_interleave(2),
                                           label_smoothing=0.1)
    assert torch.equal(clip_loss(logits, labels, 2, 0.1), ce)
    assert float(clip_loss(logits, labels, 2, teacher=logits, distill=1.0)) == pytest.approx(0.0, abs=1e-6)
    half = clip_loss(logits, labels, 2, 0.1, teacher=torch.randn(2, 5, 3), distill=0.5)
    assert half > 0.5 * ce


def linear_problem(n_batches=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_batches, 4, 3, generator=g)
    return torch.nn.Linear(3, 1), [(x[i], x[i].sum(-1, keepdim=True)) for i in range(n_batches)]


def total_loss(model, batches) -> float:
    with torch.no_grad():
        return sum(float(((model(x) - y) ** 2).mean()) for x, y in batches)


def mse(model):
    def loss_fn(batch, step):
        x, y = batch
        return BatchLoss(((model(x) - y) ** 2).mean(), len(x), 0)
    return loss_fn


def test_fit_steps_until_the_step_budget_with_checkpoints_every_n_and_at_the_stop():
    model, batches = linear_problem()
    seen = []
    before = total_loss(model, batches)
    state = fit(model, [{"params": list(model.parameters()), "lr": 0.05, "weight_decay": 0.0}],
                lambda epoch, done: batches, mse(model), Schedule(steps=10), Budget(epochs=5, steps=10),
                checkpoint_steps=4, on_checkpoint=lambda s: seen.append(("checkpoint", s.step)),
                on_epoch=lambda s: seen.append(("epoch", s.epoch, s.cut_short)), bar=None)
    assert state.step == 10 and state.stopped == "steps" and len(state.losses) == 10
    assert seen == [("checkpoint", 4), ("epoch", 0, False), ("checkpoint", 8), ("checkpoint", 10),
                    ("epoch", 1, True)]  # epoch 2 (from 0) is cut short at its 4th batch
    assert total_loss(model, batches) < 0.7 * before  # it learned
    assert state.lr == pytest.approx(0.05 * 0.5 * (1 + math.cos(math.pi * 9 / 10)))  # step 9 of 10


def test_a_resumed_run_ends_where_an_unbroken_one_does():
    model, batches = linear_problem()
    groups = lambda m: [{"params": list(m.parameters()), "lr": 0.05, "weight_decay": 0.01}]  # noqa: E731
    start = {k: v.clone() for k, v in model.state_dict().items()}
    whole = fit(model, groups(model), lambda e, done: batches[done:], mse(model),
                Schedule(warmup=2, steps=12), Budget(epochs=2), bar=None)
    end = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(start)
    saved = {}

    def keep(state):
        saved.update(model={k: v.clone() for k, v in model.state_dict().items()},
                     resume={"epoch": state.epoch, "batch": state.batch, "step": state.step,
                             "totals": Totals(**vars(state.totals)),
                             "optimizer": state.optimizer.state_dict()})

    fit(model, groups(model), lambda e, done: batches[done:], mse(model), Schedule(warmup=2, steps=12),
        Budget(epochs=2, steps=9), checkpoint_steps=100, on_checkpoint=keep, bar=None)  # stops at 9
    assert saved["resume"]["epoch"] == 1 and saved["resume"]["batch"] == 3
    model.load_state_dict(saved["model"])
    resumed = fit(model, groups(model), lambda e, done: batches[done:], mse(model),
                  Schedule(warmup=2, steps=12), Budget(epochs=2), resume=saved["resume"], bar=None)
    assert resumed.step == whole.step == 12
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, end[k], rtol=0, atol=0)
    assert resumed.totals.clips == whole.totals.clips == 24  # the epoch's sums span the resume


@pytest.mark.parametrize("finish_inside", [False, True])
def test_a_time_budget_stops_after_the_step_that_spends_it_or_before_one_that_would(monkeypatch,
                                                                                    finish_inside):
    monkeypatch.setattr(loop, "time", SimpleNamespace(perf_counter=partial(next, count(1.0))))  # 1 s a call
    model, batches = linear_problem(n_batches=50)
    ends = []
    state = fit(model, [{"params": list(model.parameters()), "lr": 0.01, "weight_decay": 0.0}],
                lambda e, done: batches, mse(model), Schedule(warmup=3, floor=0.02),
                Budget(seconds=20.0, reserve=3.0, finish_inside=finish_inside), start=0.0,
                on_step=lambda s: ends.append(s.elapsed), bar=None)
    assert state.stopped == "time" and state.cut_short and len(ends) == state.step
    if finish_inside:  # each step ends inside the budget less the reserve
        assert max(ends) <= 20.0 - 3.0 and ends[-1] + state.step_seconds + 3.0 > 20.0
    else:
        assert ends[-2] <= 20.0 < ends[-1] + 1.0
    assert math.isfinite(state.losses[-1])


def test_an_empty_batch_counts_its_skipped_clips_and_takes_no_step():
    model, batches = linear_problem(n_batches=3)
    data = [batches[0], None, batches[1]]

    def loss_fn(batch, step):
        return BatchLoss(None, skipped=2) if batch is None else mse(model)(batch, step)

    state = fit(model, [{"params": list(model.parameters()), "lr": 0.01, "weight_decay": 0.0}],
                lambda e, done: data, loss_fn, Schedule(steps=2), Budget(epochs=1), bar=None)
    assert state.step == 2 and state.batch == 3 and state.totals.skipped == 2 and state.totals.clips == 8
