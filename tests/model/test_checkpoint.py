import torch

from lcr_edge.labels import JESTER_LABELS
from lcr_edge.model import create_model
from lcr_edge.model.checkpoint import load_checkpoint, save_checkpoint


def test_checkpoints_saved_before_the_head_option_load_with_the_cls_head(tmp_path):
    model = create_model("lcr-s", dim=32, head="cls")
    save_checkpoint(tmp_path / "a.pt", model, JESTER_LABELS)
    ckpt = torch.load(tmp_path / "a.pt", weights_only=True)
    del ckpt["config"]["head"]  # as written before the option existed
    torch.save(ckpt, tmp_path / "old.pt")
    loaded, _ = load_checkpoint(tmp_path / "old.pt")
    assert loaded.config.head == "cls"
    x, e = torch.randn(1, 2, 3, 112, 112), torch.zeros(1, 2, 1, 112, 112)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x, e), model(x, e))


def test_damaged_checkpoints_are_one_clear_error(tmp_path):
    import random

    import pytest

    from lcr_edge.errors import LCRError
    from lcr_edge.model.checkpoint import read_checkpoint

    model = create_model("lcr-s", dim=16)
    save_checkpoint(tmp_path / "good.pt", model, JESTER_LABELS)
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(LCRError, match="not a readable LCR-Edge checkpoint"):
        read_checkpoint(tmp_path / "empty.pt")
    good = torch.load(tmp_path / "good.pt", weights_only=True)
    rng = random.Random(0)
    for key in ("config", "labels", "model", "preprocess", "format"):
        for value in (None, 5, "x", [1]):
            bad = {**good, key: value}
            if rng.random() < 0.3:
                bad.pop(key)
            torch.save(bad, tmp_path / "bad.pt")
            try:
                ckpt = read_checkpoint(tmp_path / "bad.pt")
            except LCRError:
                continue
            assert key == "preprocess" and isinstance(ckpt["preprocess"], dict)  # defaulted
    data = (tmp_path / "good.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])  # a copy cut short
    with pytest.raises(LCRError, match="not a readable"):
        load_checkpoint(tmp_path / "cut.pt")


def test_checkpoints_saved_before_the_motion_and_stem_options_load_as_they_were_trained(tmp_path):
    """LCRConfig's defaults are today's recipe (frame changes, conv stem); a checkpoint written
    before those options existed holds eq. 1's model and must load as that, not as the default."""
    model = create_model("lcr-s", dim=32, head="mean", motion="none", stem="patch")
    save_checkpoint(tmp_path / "a.pt", model, JESTER_LABELS)
    ckpt = torch.load(tmp_path / "a.pt", weights_only=True)
    del ckpt["config"]["motion"], ckpt["config"]["stem"]  # as written before the options existed
    torch.save(ckpt, tmp_path / "old.pt")
    loaded, _ = load_checkpoint(tmp_path / "old.pt")
    assert (loaded.config.motion, loaded.config.stem, loaded.config.head) == ("none", "patch", "mean")
    x, e = torch.randn(1, 2, 3, 112, 112), torch.zeros(1, 2, 1, 112, 112)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x, e), model(x, e))


def test_a_training_run_with_default_flags_builds_the_registrys_lcr_s(tmp_path):
    """`create_model("lcr-s")` is the model `lcr-edge train` trains when no recipe flag is given:
    the same config and the same parameters, name by name and shape by shape."""
    import sys
    from pathlib import Path

    from typer.testing import CliRunner

    from lcr_edge.cli import app

    sys.path.insert(0, str(Path(__file__).parents[1] / "training"))
    from jester_fixture import make_jester

    data = make_jester(tmp_path / "jester", per_class=1, frames=2)
    res = CliRunner().invoke(app, ["train", "--data", str(data), "--out", str(tmp_path / "run"),
                                   "--frames", "2", "--epochs", "1", "--batch", "3", "--workers",
                                   "0", "--compile", "off"])
    assert res.exit_code == 0, res.output
    trained, ckpt = load_checkpoint(tmp_path / "run" / "last.pt")
    registry = create_model("lcr-s", num_classes=len(ckpt["labels"]))
    assert trained.config == registry.config
    assert (trained.config.head, trained.config.motion, trained.config.stem) == ("max", "diff", "conv")
    assert {k: v.shape for k, v in trained.state_dict().items()} == \
        {k: v.shape for k, v in registry.state_dict().items()}
