import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from lcr_edge.cli import app
from lcr_edge.errors import LCRError
from lcr_edge.model.checkpoint import load_checkpoint, read_checkpoint
from lcr_edge.training.train import TrainConfig, train

# compile off: torch.compile costs ~40 s a process; test_compiled_units_train_like_eager covers it
TINY = dict(variant="lcr-s", dim=32, frames=3, stride=2, batch=3, workers=0, lr=3e-3, warmup=0.5,
            compile="off")


def tiny(jester, out, **kw):
    return TrainConfig(data=str(jester), out=str(out), **{**TINY, **kw})


def test_training_runs_writes_metrics_plot_and_atomic_checkpoints(jester, tmp_path):
    m = train(tiny(jester, tmp_path / "run", epochs=4), log=lambda s: None)
    run = tmp_path / "run"
    names = {p.name for p in run.iterdir()}
    assert {"last.pt", "best.pt", "metrics.csv", "curves.png", "config.toml"} <= names
    assert not [p for p in run.iterdir() if p.name.endswith(".tmp")]
    rows = (run / "metrics.csv").read_text().splitlines()
    assert len(rows) == 5 and rows[0].startswith("epoch,step,train_loss")
    first, last = float(rows[1].split(",")[2]), float(rows[-1].split(",")[2])
    assert last < first  # the loss goes down on this easy data
    assert m["epoch"] == 4 and 0.0 <= m["val_top1"] <= 1.0


def test_checkpoint_round_trip_holds_everything_a_later_stage_needs(jester, tmp_path):
    train(tiny(jester, tmp_path / "run", epochs=1), log=lambda s: None)
    ckpt = read_checkpoint(tmp_path / "run" / "last.pt")
    for key in ("config", "labels", "preprocess", "model", "optimizer", "rng", "epoch", "sampling"):
        assert key in ckpt
    assert ckpt["labels"] == ["Swiping Left", "Swiping Right", "Stop Sign"]
    assert ckpt["sampling"]["frame_rate"] == 6.0  # 12 fps, every 2nd frame
    model, _ = load_checkpoint(tmp_path / "run" / "last.pt")
    x = torch.randn(1, 2, 3, 112, 112)
    e = torch.zeros(1, 2, 1, 112, 112)
    model2, _ = load_checkpoint(tmp_path / "run" / "last.pt")
    assert torch.equal(model(x, e), model2(x, e))


@pytest.mark.slow  # three training processes; tests/training/test_loop.py resumes in-process
def test_a_run_killed_mid_epoch_resumes_to_the_same_end(jester, tmp_path):
    """SIGKILL a real training process after a mid-epoch checkpoint, --resume it, and compare with
    an unbroken run of the same seed."""
    common = ["--data", str(jester), "--variant", "lcr-s", "--frames", "3", "--stride", "2",
              "--batch", "1", "--epochs", "2", "--workers", "0", "--threads", "1",
              "--checkpoint-minutes", "0"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    cfg = tmp_path / "tiny.toml"
    cfg.write_text('dim = 32\nlr = 0.003\ncompile = "off"\n')
    cmd = [sys.executable, "-m", "lcr_edge", "train", *common, "--config", str(cfg)]
    whole = subprocess.run(cmd + ["--out", str(tmp_path / "whole")], env=env, capture_output=True,
                           text=True, timeout=600)
    assert whole.returncode == 0, whole.stderr[-2000:]
    proc = subprocess.Popen(cmd + ["--out", str(tmp_path / "broken")], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last = tmp_path / "broken" / "last.pt"
    deadline = time.time() + 300
    while time.time() < deadline:  # wait for a checkpoint in the middle of epoch 2
        time.sleep(0.01)  # an epoch of this tiny run takes about a second on a quiet machine
        try:
            c = read_checkpoint(last)
        except LCRError:
            continue
        if c["epoch"] == 1 and 0 < c["batch_in_epoch"] < 9:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert read_checkpoint(last)["epoch"] == 1
    resumed = subprocess.run(cmd + ["--out", str(tmp_path / "broken"), "--resume"], env=env,
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming" in resumed.stderr
    a = read_checkpoint(tmp_path / "whole" / "last.pt")
    b = read_checkpoint(last)
    assert a["epoch"] == b["epoch"] == 2 and a["step"] == b["step"]
    ha, hb = a["history"][-1], b["history"][-1]
    assert hb["val_loss"] == pytest.approx(ha["val_loss"], rel=1e-3, abs=1e-4)
    # the resumed epoch's training metrics count its batches from before the kill too
    assert hb["train_loss"] == pytest.approx(ha["train_loss"], rel=1e-3, abs=1e-4)
    assert hb["train_acc"] == pytest.approx(ha["train_acc"], abs=1e-6)
    for k in a["model"]:
        torch.testing.assert_close(a["model"][k], b["model"][k], rtol=1e-3, atol=1e-4)


@pytest.mark.slow  # two training processes
def test_ddp_with_two_gloo_processes(jester, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2]), "OMP_NUM_THREADS": "1"}
    cfg = tmp_path / "tiny.toml"
    cfg.write_text('dim = 32\ncompile = "off"\n')
    res = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517",
         "-m", "lcr_edge", "train", "--data", str(jester), "--frames", "2", "--batch", "2",
         "--epochs", "1", "--workers", "0", "--threads", "1", "--device", "cpu", "--config", str(cfg),
         "--out", str(tmp_path / "ddp")], env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "x 2:" in res.stderr  # "on cpu x 2": two processes
    ckpt = read_checkpoint(tmp_path / "ddp" / "last.pt")
    # both ranks' clips are counted: 9 training clips over 2 ranks, batches of 2 -> 3 steps each
    assert ckpt["step"] == 3 and ckpt["history"][0]["epoch"] == 1


@pytest.mark.slow  # torch.compile: ~40 s on a machine without its cache
def test_compiled_units_train_like_eager(jester, tmp_path):
    """compile="auto" (on, on the CPU) runs each unit's step through torch.compile: the same
    training and validation losses as eager (tests/model/test_lcr.py holds the gradients equal)."""
    logs = []
    eager = train(tiny(jester, tmp_path / "eager", epochs=1), log=lambda s: None)
    compiled = train(tiny(jester, tmp_path / "compiled", epochs=1, compile="auto"), log=logs.append)
    assert "compiled" in logs[0]
    assert compiled["train_loss"] == pytest.approx(eager["train_loss"], rel=1e-3)
    assert compiled["val_loss"] == pytest.approx(eager["val_loss"], rel=1e-2)


def test_eval_prints_accuracy_per_class_and_writes_a_confusion_matrix(jester, tmp_path):
    train(tiny(jester, tmp_path / "run", epochs=1), log=lambda s: None)
    res = CliRunner().invoke(app, ["eval", "--model", str(tmp_path / "run" / "best.pt"), "--data",
                                   str(jester), "--workers", "0", "--json"])
    assert res.exit_code == 0, res.output
    m = json.loads(res.output)
    assert m["clips"] == 3 and set(m["per_class"]) == {"Swiping Left", "Swiping Right", "Stop Sign"}
    for k in ("top1_paper", "top5_paper", "top1_last", "top5_last"):
        assert 0.0 <= m[k] <= 1.0
    assert m["top5_paper"] == 1.0  # 3 classes: the truth is always in the top 5
    assert (tmp_path / "run" / "eval-validation" / "confusion.png").stat().st_size > 1000


@pytest.mark.parametrize("toml, match", [
    ("epochs = ", "not valid TOML"),
    ("epoch = 3", r"unknown key\(s\) \['epoch'\]"),
    ("frames = 0", "frames must be >= 1"),
    ("precision = 'fp8'", "precision must be"),
    ("compile = 'yes'", "compile must be auto, on or off"),
    ('epochs = "two"', "epochs must be int, got 'two'"),
    ("lr = nan", "lr must be a finite number"),
    ("batch = 2.5", "batch must be int"),
    ("resume = 1", "resume must be bool"),
    ("variant = 3", "variant must be text"),
    ("lr = -1e-3", "lr must be >= 0"),
    ("target_after_s = 0.0", r"target_after_s in \(0, 5\]"),
])
def test_bad_config_files(tmp_path, jester, toml, match):
    f = tmp_path / "c.toml"
    f.write_text(toml + "\n")
    with pytest.raises(LCRError, match=match):
        TrainConfig.from_sources(str(f), {"data": str(jester)})


def test_a_config_path_that_is_a_folder(tmp_path, jester):
    with pytest.raises(LCRError, match="is a folder; --config takes a .toml file"):
        TrainConfig.from_sources(str(tmp_path), {"data": str(jester)})


def test_cli_reports_bad_input_in_one_line(tmp_path, jester):
    runner = CliRunner()
    res = runner.invoke(app, ["train", "--data", str(tmp_path / "missing")])
    assert res.exit_code != 0 and "data folder not found" in str(res.exception)
    r2 = subprocess.run([sys.executable, "-m", "lcr_edge", "train", "--data", str(tmp_path / "missing")],
                        capture_output=True, text=True,
                        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    assert r2.returncode == 2 and r2.stderr.strip().startswith("error:") and "Traceback" not in r2.stderr
    train(tiny(jester, tmp_path / "run", epochs=1), log=lambda s: None)
    with pytest.raises(LCRError, match="already holds a run"):
        train(tiny(jester, tmp_path / "run", epochs=1), log=lambda s: None)


def test_training_ends_with_what_it_wrote_and_the_next_command(jester, tmp_path):
    lines = []
    train(tiny(jester, tmp_path / "run", epochs=1), log=lines.append)
    end = lines[-1]
    assert f"-> {tmp_path / 'run' / 'best.pt'}" in end and "curves.png" in end
    assert f"lcr-edge eval --model {tmp_path / 'run' / 'best.pt'}" in end and "lcr-edge quantize" in end
    assert " % " in next(s for s in lines if s.startswith("epoch 1/1"))  # percentages, as eval


def test_bf16_on_a_cpu_without_native_bf16_is_called_out(jester, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    lines = []
    train(tiny(jester, tmp_path / "run", epochs=1, precision="bf16", device="cpu"), log=lines.append)
    warned = [s for s in lines if "has no native bf16" in s]
    assert len(warned) == 1 and "--precision fp32" in warned[0]


def test_a_set_whose_clips_are_all_unreadable_saves_nothing(jester, tmp_path):
    for jpg in jester.glob("*/*.jpg"):
        jpg.write_bytes(b"not a jpeg")
    with pytest.warns(UserWarning), pytest.raises(LCRError, match="no training clip"):
        train(tiny(jester, tmp_path / "run", epochs=1), log=lambda s: None)
    assert not (tmp_path / "run" / "best.pt").exists()


def test_init_starts_from_given_weights_with_a_new_schedule(jester, tmp_path):
    train(tiny(jester, tmp_path / "a", epochs=1), log=lambda s: None)
    first, _ = load_checkpoint(tmp_path / "a" / "best.pt")
    lines = []
    cfg = tiny(jester, tmp_path / "b", epochs=1, lr=1e-12, warmup=0.0)  # (almost) no update
    cfg.init = str(tmp_path / "a" / "best.pt")
    train(cfg, log=lines.append)
    warm, ckpt = load_checkpoint(tmp_path / "b" / "last.pt")
    assert ckpt["epoch"] == 1 and any("starting from the weights of" in s for s in lines)
    for (k, v), w in zip(first.state_dict().items(), warm.state_dict().values(), strict=True):
        torch.testing.assert_close(w, v, atol=1e-6, rtol=0, msg=k)
    cfg = tiny(jester, tmp_path / "c", epochs=1, dim=16)
    cfg.init = str(tmp_path / "a" / "best.pt")
    with pytest.raises(LCRError, match="does not fit"):
        train(cfg, log=lambda s: None)


def test_resume_from_a_weights_only_checkpoint_says_to_use_init(jester, tmp_path):
    from lcr_edge.model import create_model
    from lcr_edge.model.checkpoint import save_checkpoint

    run = tmp_path / "run"
    run.mkdir()
    m = create_model("lcr-s", dim=32, num_classes=3)
    save_checkpoint(run / "last.pt", m, ["Swiping Left", "Swiping Right", "Stop Sign"])
    cfg = tiny(jester, run, epochs=1, resume=True)
    with pytest.raises(LCRError, match="not a resumable training checkpoint.*--init"):
        train(cfg, log=lambda s: None)


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[2] / "configs").glob("*.toml")),
                         ids=lambda p: p.name)
def test_every_shipped_config_is_a_valid_train_config(path):
    cfg = TrainConfig.from_sources(str(path), {"data": "DATA"})  # the data comes as --data
    assert cfg.epochs >= 1 and cfg.frames >= 1 and cfg.mode in ("clip", "stream")
