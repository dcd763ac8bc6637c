"""The command line's own manners: --version, and help that shows defaults and no type noise."""

import pytest
from typer.testing import CliRunner

from lcr_edge import __version__
from lcr_edge.cli import COMMANDS, app
from lcr_edge.errors import LCRError


def test_version_prints_and_exits_zero():
    res = CliRunner().invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"lcr-edge {__version__}"


def test_help_shows_the_defaults_written_in_help_texts():
    res = CliRunner().invoke(app, ["run", "--help"], terminal_width=200)
    assert res.exit_code == 0
    assert "[default: the first camera, else the bundled demo clip]" in res.output
    assert "0 = never [default: the model's training clip length" in res.output
    assert "[default: media]" in res.output  # typer's own default display


@pytest.mark.parametrize("command", [c for c in COMMANDS if c not in ("gui", "demo")]
                         + ["app", "eval", "selftest"])
def test_flags_show_no_bool_metavar(command):
    res = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "<bool>" not in res.output and "Usage: " in res.output


@pytest.mark.parametrize("args", [
    ["eval", "--stream", "--streams", "0", "--model", "m"],
    ["train", "--data", "d", "--batch", "0"],
    ["train", "--data", "d", "--workers", "-1"],
    ["run", "--threads", "-1"],
    ["quantize", "c.pt", "--data", "d", "--out", "o", "--batch-size", "0"],
    ["record", "--out", "o", "--label", "Thumb Up", "--count", "0"],
])
def test_numbers_out_of_range_are_refused_before_any_work(args):
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "Invalid value" in res.output and "greater than or equal" in res.output


def test_export_refuses_a_frame_rate_that_is_not_a_rate(tmp_path):
    import tiny_models as testing

    ckpt = testing.tiny_checkpoint(tmp_path / "t.pt", dim=16)
    for bad in ("0", "-3", "nan"):
        res = CliRunner().invoke(app, ["export", str(ckpt), "--out", str(tmp_path / "o"),
                                       "--frame-rate", bad])
        assert res.exit_code != 0 and "--frame-rate must be a rate" in str(res.exception), bad
    assert not (tmp_path / "o" / "model.json").exists()


@pytest.mark.parametrize("command", [
    ["export", "CKPT", "--out", "OUT"],
    ["quantize", "CKPT", "--data", "DATA", "--out", "OUT"],
    ["finetune", "--data", "DATA", "--out", "OUT"],
    ["eval", "--model", "CKPT", "--data", "DATA", "--out", "OUT"],
    ["train", "--data", "DATA", "--out", "OUT"],
])
def test_an_out_that_is_a_file_fails_before_any_work(tmp_path, command):
    (tmp_path / "taken").write_text("not a folder")
    args = [{"OUT": str(tmp_path / "taken"), "CKPT": str(tmp_path / "missing.pt"),
             "DATA": str(tmp_path)}.get(a, a) for a in command]
    res = CliRunner().invoke(app, args)
    assert res.exit_code != 0 and "is a file, not a folder" in str(res.exception), res.output


@pytest.mark.parametrize("command", ["train", "eval", "finetune", "quantize"])
def test_the_batch_size_has_one_spelling_everywhere(command):
    res = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    assert "--batch, --batch-size" in res.output


def test_demo_points_to_selftest_and_to_the_real_demo():
    res = CliRunner().invoke(app, ["demo"])
    assert res.exit_code != 0 and "run --source demo" in str(res.exception)
    assert "selftest" in str(res.exception)
    assert "demo" not in CliRunner().invoke(app, ["--help"]).output.split("Commands:")[1].split()


def test_export_takes_the_checkpoint_as_model_too(tmp_path):
    import tiny_models as testing

    ckpt = testing.tiny_checkpoint(tmp_path / "t.pt", dim=16)
    res = CliRunner().invoke(app, ["export", "--model", str(ckpt), "--out", str(tmp_path / "o"),
                                   "--format", "onnx"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / "model.json").is_file()
    res = CliRunner().invoke(app, ["export", "--out", str(tmp_path / "p")])
    assert res.exit_code != 0 and "no checkpoint" in str(res.exception)
    res = CliRunner().invoke(app, ["quantize", str(ckpt), "--model", str(tmp_path / "x.pt"),
                                   "--data", str(tmp_path), "--out", str(tmp_path / "q")])
    assert res.exit_code != 0 and "two checkpoints given" in str(res.exception)


def test_weights_holding_nan_and_a_zero_stride_are_refused_by_every_command(tmp_path):
    """A diverged checkpoint answered NaN (or nothing) through eval, finetune, run and selftest
    with exit 0; a sampling stride of 0 divided by zero. Each is now one message."""
    import numpy as np
    import tiny_models as testing
    import torch

    from lcr_edge.model.checkpoint import load_checkpoint, read_checkpoint

    good = testing.tiny_checkpoint(tmp_path / "t.pt", dim=16)
    ckpt = torch.load(good, weights_only=True)
    first = next(k for k, v in ckpt["model"].items() if v.is_floating_point())
    ckpt["model"][first] = ckpt["model"][first].clone().fill_(float("nan"))
    torch.save(ckpt, tmp_path / "nan.pt")
    ckpt = torch.load(good, weights_only=True)
    ckpt["sampling"] = {"frames": 8, "stride": 0, "source_fps": 12.0}
    torch.save(ckpt, tmp_path / "stride0.pt")
    with pytest.raises(LCRError, match="hold NaN or infinity"):
        load_checkpoint(tmp_path / "nan.pt")
    with pytest.raises(LCRError, match=r"sampling.stride must be a whole number of at least 1"):
        read_checkpoint(tmp_path / "stride0.pt")
    from lcr_edge.recording import RecordingSet

    rs = RecordingSet.open(tmp_path / "set")
    for kind, label in enumerate(("Swiping Left", "Swiping Right")):
        for k in range(2):
            rs.add_clip(label, [np.full((48, 64, 3), 60 * kind + 10 * k + i, np.uint8)
                                for i in range(12)])
    for bad, why in (("nan.pt", "NaN or infinity"), ("stride0.pt", "sampling.stride")):
        model = str(tmp_path / bad)
        for args in (["eval", "--model", model, "--data", str(tmp_path)],
                     ["finetune", "--model", model, "--data", str(tmp_path / "set"), "--out",
                      str(tmp_path / "ft")],
                     ["run", "--model", model, "--backend", "torch", "--source", "demo"],
                     ["selftest", "--model", model],
                     ["export", model, "--out", str(tmp_path / "ex")]):
            res = CliRunner().invoke(app, args)
            assert res.exit_code != 0 and why in str(res.exception), (args, res.output)
    assert not (tmp_path / "ex").exists() and not (tmp_path / "ft" / "finetuned.pt").exists()


def test_bench_without_a_model_times_the_bundled_one(monkeypatch):
    import json

    from lcr_edge.paths import BUNDLED_MODEL

    monkeypatch.delenv("LCR_EDGE_MODEL", raising=False)
    res = CliRunner().invoke(app, ["bench", "--backend", "onnxruntime", "--precision", "int8",
                                   "--frames", "3", "--no-peak", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["model"] == str(BUNDLED_MODEL)


def test_a_file_size_limit_is_one_message_and_leaves_no_partial_output(tmp_path):
    """A full disk, as a file-size limit: export and synth say so in one line with exit 2 (they
    gave tracebacks, or a short video with exit 0), and publish nothing half-written."""
    import resource
    import subprocess
    import sys

    import tiny_models as testing

    ckpt = testing.tiny_checkpoint(tmp_path / "t.pt", dim=16)

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    for args, out in ((["export", str(ckpt), "--out", str(tmp_path / "ex")], tmp_path / "ex"),
                      (["synth", str(tmp_path / "st"), "--streams", "1"], tmp_path / "st")):
        res = subprocess.run([sys.executable, "-m", "lcr_edge", *args], capture_output=True,
                             text=True, preexec_fn=limit, timeout=300)
        last = res.stderr.strip().splitlines()[-1]
        assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr[-2000:]
        assert "could not write" in last or "file-size limit" in last, last
        assert not list(out.glob("*.mp4")) and not (out / "model.json").exists()
