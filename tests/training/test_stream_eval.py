import json

import numpy as np
import torch
from typer.testing import CliRunner

from lcr_edge.cli import app
from lcr_edge.events import Event
from lcr_edge.labels import JESTER_LABELS
from lcr_edge.model import create_model
from lcr_edge.model.checkpoint import save_checkpoint
from lcr_edge.training.stream_eval import edit_distance, score_stream


def test_edit_distance():
    assert edit_distance([], []) == 0
    assert edit_distance(["a", "b"], ["a", "b"]) == 0
    assert edit_distance(["a"], ["a", "b"]) == 1  # a miss
    assert edit_distance(["a", "x", "b"], ["a", "b"]) == 1  # an extra fire
    assert edit_distance(["b", "a"], ["a", "b"]) == 2
    assert edit_distance(["c"], ["a"]) == 1  # a wrong label


def test_score_stream_counts_false_fires_outside_gesture_windows_and_latency():
    truth = [("Swiping Left", 20, 30), ("Doing other things", 40, 50), ("Thumb Up", 70, 80)]
    idx = np.arange(0, 120, 3)  # a model at 4 fps over a 12 fps stream: model frame k = source 3k
    fired = [Event("single", "Swiping Left", 0, 11),  # source 33: 3 frames after the end, ok
             Event("hold", "Swiping Left", 0, 12),  # holds are not events of their own
             Event("single", "Stop Sign", 0, 20),  # source 60: in an idle stretch: a false fire
             Event("single", "Thumb Up", 0, 27)]  # source 81
    r = score_stream(truth, fired, idx, 120)
    assert r.truth == ["Swiping Left", "Thumb Up"]
    assert r.fired == ["Swiping Left", "Stop Sign", "Thumb Up"]
    assert r.false_fires == 1
    np.testing.assert_allclose(r.latencies_s, [3 / 12, 1 / 12])
    # windows are [20, 48) and [70, 98): 120 - 28 - 28 = 64 idle frames
    assert abs(r.idle_minutes - 64 / 12 / 60) < 1e-9


def test_eval_stream_end_to_end_on_a_tiny_checkpoint(tmp_path):
    torch.manual_seed(0)
    model = create_model("lcr-s", dim=32)
    ckpt = tmp_path / "tiny.pt"
    save_checkpoint(ckpt, model, JESTER_LABELS, sampling={"frame_rate": 4.0, "frames": 6})
    res = CliRunner().invoke(app, ["eval", "--stream", "--model", str(ckpt), "--streams", "1",
                                   "--gestures", "2", "--json"])
    assert res.exit_code == 0, res.output
    m = json.loads(res.output)
    assert m["streams"] == 1 and m["true_gestures"] == 2 and m["model_frame_rate"] == 4.0
    assert 0.0 <= m["event_accuracy"] <= 1.0 and m["idle_minutes"] > 0
    assert len(m["per_stream"][0]["truth"]) == 2
    # a checkpoint runs with the horizon lanes of its training clip length, as an export does
    assert m["horizon"] == 6


def test_eval_stream_with_long_idle_stretches_reports_them_and_p90_latency(tmp_path):
    torch.manual_seed(0)
    ckpt = tmp_path / "tiny.pt"
    save_checkpoint(ckpt, create_model("lcr-s", dim=32), JESTER_LABELS,
                    sampling={"frame_rate": 3.0, "frames": 8, "mode": "stream"})
    res = CliRunner().invoke(app, ["eval", "--stream", "--model", str(ckpt), "--streams", "1",
                                   "--gestures", "1", "--long-idle", "1", "--json"])
    assert res.exit_code == 0, res.output
    m = json.loads(res.output)
    assert m["longest_idle_s"] >= 30 - 1.5 - 1e-6  # a 30-40 s gap, less the last gesture's grace
    assert m["idle_minutes"] >= 1.0 and m["horizon"] == 0  # two long gaps; a stream model: one state
    assert "p90_latency_s" in m
    plain = CliRunner().invoke(app, ["eval", "--stream", "--model", str(ckpt), "--streams", "1",
                                     "--gestures", "1"])
    assert plain.exit_code == 0 and "longest idle stretch" in plain.output


def test_a_checkpoints_recognizer_answers_from_fresh_lanes_like_an_export(tmp_path):
    from lcr_edge.runtime import Recognizer, softmax

    torch.manual_seed(0)
    model = create_model("lcr-s", dim=32, num_classes=5)
    ckpt = tmp_path / "tiny.pt"
    save_checkpoint(ckpt, model, JESTER_LABELS[:5], sampling={"frame_rate": 4.0, "frames": 4})
    rec = Recognizer.open(ckpt, backend="torch")
    assert rec.horizon == 4 and rec.frame_rate == 4.0
    assert Recognizer.open(ckpt, backend="torch", horizon=0).horizon == 0
    g = torch.Generator().manual_seed(1)
    frames = [(torch.randn(1, 3, 112, 112, generator=g).numpy(),
               (torch.rand(1, 1, 112, 112, generator=g) > 0.8).float().numpy()) for _ in range(9)]
    got = [rec.step_prepared(x, e) for x, e in frames]

    def fresh(start, end):  # the model run from a zero state over frames[start:end + 1]
        state = model.initial_state(1)
        with torch.no_grad():
            for x, e in frames[start:end + 1]:
                logits, state = model.step(torch.from_numpy(x), torch.from_numpy(e), state)
        return softmax(logits[0].numpy())

    # lane 0 restarts at frames 4, 8; lane 1 at 2, 6. At frame 7 lane 0 has seen 4..7 and lane 1
    # 6..7: the answer is the longer history's; at frame 8, lane 1's (6..8).
    np.testing.assert_allclose(got[7], fresh(4, 7), atol=1e-5)
    np.testing.assert_allclose(got[8], fresh(6, 8), atol=1e-5)  # lane 0 restarted at 8
    np.testing.assert_allclose(got[3], fresh(0, 3), atol=1e-5)


def test_clip_eval_without_data_says_so(tmp_path):
    res = CliRunner().invoke(app, ["eval", "--model", str(tmp_path / "x.pt")])
    assert res.exit_code != 0 and "needs --data" in str(res.exception)
