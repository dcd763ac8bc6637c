"""lcr_edge.runtime.Recognizer: the API other parts code against, its backends, reset(), horizons
(tests/app/test_runtime_path.py holds the runtime path torch-free)."""

import numpy as np
import pytest
import tiny_models as testing
from optional import needs_mp4

from lcr_edge.errors import LCRError
from lcr_edge.preprocess import Preprocess
from lcr_edge.runtime import Recognizer


def run(rec, frames):
    return np.stack([rec.step(f) for f in frames])


@pytest.mark.parametrize("backend", ["openvino", "onnxruntime", "torch"])
def test_api_and_reset_reproduces_the_first_frames(tiny_fp32, backend):
    rec = Recognizer.open(tiny_fp32, backend=backend, threads=1)
    assert rec.backend == backend and rec.precision == "fp32"
    assert rec.labels == rec.metadata["labels"] and len(rec.labels) == 5
    assert rec.frame_rate == 12.0
    frames = testing.clip(12)
    first = run(rec, frames)
    assert first.shape == (12, 5) and first.dtype == np.float32
    np.testing.assert_allclose(first.sum(1), 1.0, rtol=1e-5)
    assert set(rec.timings) == {"preprocess", "edges", "inference"}
    assert all(v >= 0 for v in rec.timings.values())
    rec.reset()
    np.testing.assert_array_equal(run(rec, frames), first)  # exactly, state back to zeros


def test_backends_agree_and_state_matters(tiny_fp32):
    frames = testing.clip(12)
    probs = {b: run(Recognizer.open(tiny_fp32, backend=b), frames)
             for b in ("openvino", "onnxruntime", "torch")}
    np.testing.assert_allclose(probs["openvino"], probs["torch"], atol=1e-4)
    np.testing.assert_allclose(probs["onnxruntime"], probs["torch"], atol=1e-4)
    rec = Recognizer.open(tiny_fp32)
    fresh = rec.step(frames[5])
    assert np.abs(fresh - probs["openvino"][5]).max() > 1e-6  # the carried state changes output


def test_prepare_is_the_projects_preprocessing(tiny_fp32):
    rec = Recognizer.open(tiny_fp32, backend="onnxruntime")
    frame = testing.clip(3)[2]
    x, e = rec.prepare(frame)
    want_x, want_e = Preprocess.from_dict(rec.metadata)(frame)
    np.testing.assert_array_equal(x[0], want_x)
    np.testing.assert_array_equal(e[0], want_e)


def test_precision_choice(tiny_int8):
    assert Recognizer.open(tiny_int8).precision == "int8"  # best available
    assert Recognizer.open(tiny_int8, backend="onnxruntime").precision == "int8"
    assert Recognizer.open(tiny_int8, precision="fp32").precision == "fp32"
    assert Recognizer.open(tiny_int8, backend="torch").precision == "fp32"
    with pytest.raises(LCRError, match="FP32 only"):
        Recognizer.open(tiny_int8, backend="torch", precision="int8")
    with pytest.raises(LCRError, match="unknown backend"):
        Recognizer.open(tiny_int8, backend="tensorrt")
    with pytest.raises(LCRError, match="precision must be"):
        Recognizer.open(tiny_int8, precision="fp16")


def test_torch_backend_opens_a_checkpoint_file(tiny_fp32):
    rec = Recognizer.open(tiny_fp32.parent / "tiny_fp32.pt", backend="torch")
    ref = Recognizer.open(tiny_fp32, backend="torch")
    frame = testing.clip(1)[0]
    np.testing.assert_array_equal(rec.step(frame), ref.step(frame))
    assert rec.labels == ref.labels


def test_bad_frames_fail_clearly(tiny_fp32):
    rec = Recognizer.open(tiny_fp32, backend="onnxruntime")
    with pytest.raises(LCRError, match="uint8"):
        rec.step(np.zeros((100, 100, 3), np.float32))
    with pytest.raises(LCRError, match="BGR"):
        rec.step(np.zeros((100, 100), np.uint8))


def test_horizon_answers_from_a_fresh_state_that_saw_the_last_half_to_whole_horizon(tiny_fp32):
    """horizon H: every answer equals a fresh stream over the last H/2+1 .. H frames (the lane
    with the longer history of two lanes restarted every H frames, half a period apart)."""
    H = 4
    frames = testing.clip(14)
    windowed = Recognizer.open(tiny_fp32, backend="onnxruntime", horizon=H)
    plain = Recognizer.open(tiny_fp32, backend="onnxruntime")
    assert plain.horizon == 0  # no sampling.frames in this model.json: one state for ever
    got = [windowed.step(f) for f in frames]
    # lane 0 restarts at frames 0, 4, 8, 12 and lane 1 at 2, 6, 10: frame n's answer is from the
    # lane that restarted longer ago
    first_frame_seen = [0, 0, 0, 0, 2, 2, 4, 4, 6, 6, 8, 8, 10, 10]
    for n, start in enumerate(first_frame_seen):
        plain.reset()
        want = [plain.step(f) for f in frames[start:n + 1]][-1]
        np.testing.assert_allclose(got[n], want, rtol=1e-5, atol=1e-6, err_msg=f"frame {n}")
    windowed.reset()
    np.testing.assert_allclose(windowed.step(frames[0]), got[0], rtol=1e-6)


@pytest.mark.parametrize("backend", ["openvino", "onnxruntime"])
def test_a_long_stream_stays_finite_and_the_bounded_cell_bounded(tiny_int8, backend):
    """Numerical health of an endless stream, on a short run (benchmarks/long_stream.py runs 100,000 frames):
    one INT8 state carried through 400 frames without a reset keeps logits and state finite,
    |H| and |C| <= 1 (the bounded cell), and the state readable in the model.json layout."""
    rec = Recognizer.open(tiny_int8, backend=backend, horizon=0)
    frames = testing.clip(40)
    prepared = [rec.prepare(f) for f in frames + frames[::-1]]
    for n in range(400):
        logits = rec.logits_prepared(*prepared[n % len(prepared)])
        assert np.isfinite(logits).all(), n
    state = rec.current_state()
    assert list(state.shape) == rec.metadata["state"][0]["shape"]
    assert np.isfinite(state).all() and np.abs(state[:, :2]).max() <= 1.0 + 1e-3
    assert np.abs(state[:, 1]).max() > 0  # the state is really carried (not reset each frame)


def test_a_model_trained_to_stream_keeps_one_state_and_a_clip_model_its_lanes(tiny_fp32, tmp_path):
    import json
    import shutil

    for mode, frames, want in (("stream", 8, 0), ("clip", 8, 8), (None, 6, 6)):
        folder = tmp_path / f"m-{mode}"
        shutil.copytree(tiny_fp32, folder)
        meta = json.loads((folder / "model.json").read_text())
        meta["sampling"] = {"frames": frames, "stride": 4, **({"mode": mode} if mode else {})}
        (folder / "model.json").write_text(json.dumps(meta))
        assert Recognizer.open(folder, backend="onnxruntime").horizon == want
        assert Recognizer.open(folder, backend="onnxruntime", horizon=0).horizon == 0


@needs_mp4
def test_the_bundled_model_fires_the_demo_clips_six_gestures_in_order():
    """The out-of-the-box path, for real: the bundled INT8 OpenVINO model (its files as hashed in
    its model.json) through the engine and the media profile's event rules on the bundled clip."""
    import json

    from lcr_edge import paths
    from lcr_edge.actions import load_profile
    from lcr_edge.engine import Engine
    from lcr_edge.sources import iter_frames, open_source

    rec = Recognizer.open(paths.BUNDLED_MODEL)
    assert rec.precision == "int8" and rec.horizon == 8
    assert "synthetic" in rec.metadata["bundled"]["trained_on"]
    eng = Engine(rec, load_profile("media", labels=rec.labels).events)
    fired = []
    for f in iter_frames(open_source("demo"), eng.frame_rate):
        fired += [ev.gesture for ev in eng.step(f.image, f.t, f.index).events if ev.kind == "single"]
    info = json.loads(paths.DEMO_CLIP.with_suffix(".json").read_text())
    assert fired == [e["label"] for e in info["events"]]


def test_eval_of_the_bundled_model_writes_its_report_outside_the_package(tmp_path, monkeypatch):
    import sys
    from pathlib import Path

    from typer.testing import CliRunner

    from lcr_edge import paths
    from lcr_edge.cli import app
    from lcr_edge.labels import JESTER_LABELS

    sys.path.insert(0, str(Path(__file__).parents[1] / "training"))
    from jester_fixture import make_jester

    data = make_jester(tmp_path / "jester", per_class=0, frames=8, labels=JESTER_LABELS)
    before = sorted(p.name for p in paths.BUNDLED_MODEL.iterdir())
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, ["eval", "--model", str(paths.BUNDLED_MODEL), "--data", str(data),
                                   "--workers", "0", "--json"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in paths.BUNDLED_MODEL.iterdir()) == before
    assert (tmp_path / "runs" / "bundled-model" / "eval-validation" / "metrics.json").is_file()


def test_an_unfinished_quantize_is_named_when_the_folder_is_opened(tmp_path, tiny_fp32, capsys):
    import json
    import shutil

    from lcr_edge.loader import load_recognizer

    folder = tmp_path / "m"
    shutil.copytree(tiny_fp32, folder)
    meta = json.loads((folder / "model.json").read_text())
    meta["quantization"] = {"complete": False}  # what a quantize killed after its FP32 export leaves
    (folder / "model.json").write_text(json.dumps(meta))
    rec = load_recognizer(folder)
    assert rec.precision == "fp32" and "did not finish" in capsys.readouterr().err
    load_recognizer(tiny_fp32)
    assert "did not finish" not in capsys.readouterr().err
