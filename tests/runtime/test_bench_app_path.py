"""`lcr-edge bench` times the frame as `run` and the app run it, beside one inference."""

import json

from typer.testing import CliRunner

from lcr_edge.cli import app


def _bench(model, *extra):
    res = CliRunner().invoke(app, ["bench", "--model", str(model), "--backend", "onnxruntime",
                                   "--precision", "fp32", "--frames", "6", "--no-peak",
                                   "--threads", "1", *extra])
    assert res.exit_code == 0, res.output
    return res


def test_the_app_path_uses_the_models_horizon_and_reports_cpu_per_second_of_video(tiny_fp32):
    (row,) = json.loads(_bench(tiny_fp32, "--json").output)["rows"]
    a = row["app"]
    assert a["horizon"] == 0 and a["inferences_per_frame"] == 1  # no sampling.frames: one state
    assert a["latency_ms"]["median"] > 0 and a["cpu_ms_per_frame"] > 0
    assert abs(a["cpu_ms_per_video_s"] - a["cpu_ms_per_frame"] * a["frame_rate"]) < 1e-6
    assert abs(a["vs_one_inference"] * row["latency_ms"]["median"]
               - a["latency_ms"]["median"]) < 1e-6
    # two lanes, as clip-trained models run: twice the inferences a frame
    (row,) = json.loads(_bench(tiny_fp32, "--horizon", "4", "--json").output)["rows"]
    assert row["app"]["horizon"] == 4 and row["app"]["inferences_per_frame"] == 2
    text = _bench(tiny_fp32).output
    assert "as lcr-edge run and the app run it" in text and "CPU ms per s of video" in text


def test_benchmark_app_latencies_read_in_milliseconds_whatever_unit_it_prints():
    from lcr_edge.bench import _benchmark_app_value

    assert abs(_benchmark_app_value("[ INFO ]    Median:        615.85 us") - 0.61585) < 1e-9
    assert _benchmark_app_value("[ INFO ]    Median:        0.62 ms") == 0.62
    assert _benchmark_app_value("[ INFO ] Throughput:   1486.66 FPS") == 1486.66
    assert _benchmark_app_value("[ INFO ]    Median:   n/a") is None
