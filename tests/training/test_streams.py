"""Stream sets and the chunks stream training learns from: targets, continuity, resets, flips."""

import numpy as np
import pytest

from lcr_edge.errors import LCRError
from lcr_edge.labels import JESTER_LABELS
from lcr_edge.training.streams import IGNORE, StreamChunks, Targets, frame_targets, read_streams
from lcr_edge.training.synth.dataset import StreamPlan, write_streams

L = list(JESTER_LABELS)
BG = L.index("No gesture")


def test_targets_name_the_gesture_around_its_end_and_ignore_the_rest_of_it():
    t = frame_targets([("Swiping Left", 10, 22)], 40, L, fps=12, targets=Targets(0.25, 0.5))
    sl = L.index("Swiping Left")
    assert (t[:10] == BG).all() and (t[10:19] == IGNORE).all()
    assert (t[19:28] == sl).all() and (t[28:] == BG).all()  # 3 frames before the end, 6 after
    # a window never reaches back before the gesture's start nor past the stream's end
    t = frame_targets([("Thumb Up", 2, 4), ("Stop Sign", 36, 40)], 40, L, 12, Targets(1.0, 1.0))
    assert (t[:2] == BG).all() and (t[2:16] == L.index("Thumb Up")).all()
    assert (t[36:] == L.index("Stop Sign")).all() and len(t) == 40


def test_targets_refuse_unknown_labels_and_a_model_without_a_background_class():
    with pytest.raises(LCRError, match="not one of the model's classes"):
        frame_targets([("Waving", 1, 3)], 10, L, 12)
    with pytest.raises(LCRError, match="No gesture"):
        frame_targets([], 10, ["Thumb Up", "Thumb Down"], 12)


@pytest.fixture(scope="module")
def stream_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("streams") / "set"
    plan = StreamPlan(gestures=(2, 3), idle_frames=(6, 10), long_idle_p=0.0, other_fraction=0.0)
    summary = write_streams(out, 3, seed=4, size=(64, 48), val_fraction=0.34, workers=1, plan=plan,
                            progress=False)
    assert summary["streams"] == 3 and summary["validation"] == 1
    return out


def test_a_stream_set_lists_its_streams_events_and_split(stream_set):
    train, labels = read_streams(stream_set, "train")
    val, _ = read_streams(stream_set, "validation")
    assert labels == L and len(train) == 2 and len(val) == 1
    from lcr_edge.training.data import decode_video

    for s in train + val:
        frames = decode_video(s["video"])
        assert len(frames) == s["frames"] and frames[0].shape == (48, 64, 3)
        assert 2 <= len(s["events"]) <= 3
        assert all(0 <= a < b <= s["frames"] and lb in L for lb, a, b in s["events"])
    with pytest.raises(LCRError, match="no streams in split 'test'"):
        read_streams(stream_set, "test")
    with pytest.raises(LCRError, match="not a stream set"):
        read_streams(stream_set.parent)


def test_each_lane_continues_its_stream_from_batch_to_batch(stream_set):
    train, labels = read_streams(stream_set, "train")
    chunk, stride = 4, 2
    ds = StreamChunks(train[:1], labels, lanes=2, chunk=chunk, stride=stride, reset_p=1.0,
                      jitter=0.0, flip=0.0, seed=3, batches=3)
    batches = list(ds)
    assert batches[0]["frames"].shape == (2, chunk, 3, 112, 112)
    assert batches[0]["edges"].shape == (2, chunk, 1, 112, 112)
    assert batches[0]["reset"].tolist() == [True, True]  # every lane starts from a zero state
    s = train[0]
    full = frame_targets(s["events"], s["frames"], labels, s["fps"])
    n = len(batches) * chunk
    assert s["frames"] // stride >= n + chunk  # the stream outlasts the three batches
    for lane in range(2):
        assert not any(b["reset"][lane] for b in batches[1:])
        seen = np.concatenate([b["targets"][lane].numpy() for b in batches])
        # the targets of frames offset, offset + stride, ... for one offset in [0, chunk * stride)
        assert any(np.array_equal(seen, full[o::stride][:n]) for o in range(chunk * stride))


def test_a_carried_state_skips_the_cut_and_a_flipped_stream_swaps_left_and_right(stream_set):
    train, labels = read_streams(stream_set, "train")
    s = dict(train[0], frames=train[0]["frames"],
             events=[("Swiping Left", 0, 2)])  # only the window matters here
    kw = dict(lanes=1, chunk=2, stride=1, jitter=0.0, seed=0, batches=1)
    plain = next(iter(StreamChunks([s], labels, flip=0.0, **kw)))["targets"][0]
    flipped = next(iter(StreamChunks([s], labels, flip=1.0, **kw)))["targets"][0]
    sl, sr = L.index("Swiping Left"), L.index("Swiping Right")
    assert sl in plain.tolist() and sl not in flipped.tolist()
    assert [sr if t == sl else t for t in plain.tolist()] == flipped.tolist()
    # a lane whose stream ends keeps the state (reset_p=0): the first frame after the cut is ignored
    short = dict(train[0], frames=train[0]["frames"], events=[])
    ds = StreamChunks([short], labels, lanes=1, chunk=short["frames"] // 2 - 1, stride=1,
                      reset_p=0.0, jitter=0.0, flip=0.0, seed=1, batches=4)
    batches = list(ds)
    assert batches[0]["reset"].tolist() == [True]
    restarts = [b for b in batches[1:] if b["targets"][0, 0] == IGNORE]
    assert restarts and not any(b["reset"][0] for b in batches[1:])


def test_train_in_stream_mode_carries_the_state_and_scores_events(stream_set, tmp_path):
    import torch

    from lcr_edge.model.checkpoint import read_checkpoint
    from lcr_edge.training.train import TrainConfig, train

    cfg = TrainConfig.from_sources(None, dict(
        data=str(stream_set), mode="stream", dim=32, frames=4, stride=4, batch=2, epochs=2,
        epoch_steps=4, workers=0, compile="off", out=str(tmp_path / "run"), val_streams=1))
    metrics = train(cfg, log=lambda *_: None)
    assert metrics["epoch"] == 2 and metrics["step"] == 8
    assert 0.0 <= metrics["val_event_accuracy"] <= 1.0 and metrics["val_false_fires_per_idle_min"] >= 0
    assert 0.0 <= metrics["val_frame_acc"] <= 1.0 and metrics["frames_per_s"] > 0
    ckpt = read_checkpoint(tmp_path / "run" / "best.pt")
    assert ckpt["sampling"]["mode"] == "stream" and ckpt["sampling"]["frame_rate"] == 3.0
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values())
    # a stream set is not a clip set: the clip mode says which flag to use
    with pytest.raises(LCRError, match="--mode stream"):
        train(TrainConfig.from_sources(None, dict(data=str(stream_set), out=str(tmp_path / "clip"))))


def test_the_stream_loss_carries_each_lanes_state_and_zeroes_it_on_reset():
    import torch

    from lcr_edge.model import create_model
    from lcr_edge.training.streams import stream_batch_loss

    torch.manual_seed(0)
    model = create_model("lcr-s", num_classes=len(L), dim=32)
    loss_fn = stream_batch_loss(model, model, BG)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 3, 112, 112, generator=g)
    e = (torch.rand(2, 3, 1, 112, 112, generator=g) > 0.9).float()
    t = torch.full((2, 3), BG)
    t[0, 0] = IGNORE
    first = loss_fn({"frames": x, "edges": e, "targets": t, "reset": torch.tensor([True, True])}, 0)
    assert first.clips == 5 and torch.isfinite(first.loss)
    with torch.no_grad():
        logits, after = model(x, e, return_state=True)
    # the next chunk starts from that state for lane 1, from zeros for lane 0
    batch = {"frames": x, "edges": e, "targets": t, "reset": torch.tensor([True, False])}
    out = loss_fn(batch, 1)
    state = torch.stack([model.initial_state(1)[:, :, 0], after[:, :, 1]], dim=2)
    with torch.no_grad():
        want = model(x, e, state=state)
    flat = want.reshape(-1, len(L))
    weight = torch.ones(len(L))
    weight[BG] = 0.5
    ref = torch.nn.functional.cross_entropy(flat, t.reshape(-1), weight=weight, ignore_index=IGNORE,
                                            label_smoothing=0.1)
    assert torch.allclose(out.loss, ref, atol=1e-5)
