"""NNCF's C++ extension build: a stale lock from a killed build is removed, a fresh one kept."""

import os
import time

import pytest

from lcr_edge.quantize.extensions import STALE_LOCK_S, prepare


def test_stale_build_locks_are_removed_and_fresh_ones_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    monkeypatch.delenv("NNCF_EXTENSION_LOAD_TIMEOUT", raising=False)
    old = tmp_path / "py311_cpu" / "nncf" / "quantized_functions_cpu" / "2.13.0+cpu" / "lock"
    new = tmp_path / "py311_cpu" / "nncf" / "binarized_functions_cpu" / "lock"
    for lock in (old, new):
        lock.parent.mkdir(parents=True)
        lock.write_text("")
    past = time.time() - STALE_LOCK_S - 60
    os.utime(old, (past, past))
    with pytest.warns(UserWarning, match="stale build lock"):
        assert prepare() == [old]
    assert not old.exists() and new.exists()
    assert int(os.environ["NNCF_EXTENSION_LOAD_TIMEOUT"]) > 60


@pytest.fixture
def unsettled_nncf(monkeypatch):
    """NNCF's CPU quantizer functions not yet chosen in this process (restored afterwards)."""
    from nncf.torch.quantization.extensions import QuantizedFunctionsCPU

    monkeypatch.setattr(QuantizedFunctionsCPU, "_loaded_namespace", None)
    return QuantizedFunctionsCPU


def test_a_build_past_its_time_falls_back_to_pytorch_and_leaves_no_lock(tmp_path, monkeypatch,
                                                                      unsettled_nncf):
    from nncf.torch.quantization.reference import ReferenceQuantizedFunctions

    from lcr_edge.quantize.extensions import choose_fake_quant

    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))  # nothing built here yet
    said = []
    assert choose_fake_quant("auto", timeout_s=1.0, log=said.append) == "torch"
    assert "did not build within 1 s" in said[-1] and "pure-PyTorch" in said[-1]
    assert unsettled_nncf.get("Quantize_forward") is ReferenceQuantizedFunctions.Quantize_forward
    assert not list(tmp_path.rglob("lock"))


def test_a_build_that_fails_names_why_and_extension_mode_refuses(tmp_path):
    from lcr_edge.quantize.extensions import build_in_child

    code = "import sys; sys.exit('error: no C++ compiler found')"
    assert build_in_child(tmp_path, 30, code) == (False, "it could not be built (error: no C++ "
                                                         "compiler found)")
    lock = tmp_path / "lock"
    code = f"import pathlib, time; pathlib.Path({str(lock)!r}).touch(); time.sleep(60)"
    assert build_in_child(tmp_path, 3, code) == (False, "it did not build within 3 s")
    assert not lock.exists()


def test_pytorch_fake_quant_gives_the_extensions_numbers(tmp_path, monkeypatch, unsettled_nncf):
    import tiny_models as testing
    import torch

    from lcr_edge.errors import LCRError
    from lcr_edge.model.checkpoint import load_checkpoint
    from lcr_edge.model.lcr import rollout
    from lcr_edge.quantize import qat
    from lcr_edge.quantize.extensions import choose_fake_quant

    model, _ = load_checkpoint(testing.tiny_checkpoint(tmp_path / "t.pt", dim=16, num_classes=3))
    qstep = qat.quantize_ptq(model, qat.calibration_items(
        model, testing.random_batches(1, 1, 4, 3), max_items=4, every=1))
    x, e, _ = testing.random_batches(1, 1, 4, 3, seed=5)[0]
    outs = []
    for mode in ("extension", "torch"):
        try:
            assert choose_fake_quant(mode, log=lambda *_: None) == mode
        except LCRError as exc:  # no compiler here: the fallback is all there is to test
            pytest.skip(str(exc))
        with torch.no_grad():
            outs.append(rollout(qstep, x, e)[0])
        monkeypatch.setattr(unsettled_nncf, "_loaded_namespace", None)
    assert torch.allclose(outs[0], outs[1], atol=1e-5)
    with pytest.raises(LCRError, match="choose one of"):
        choose_fake_quant("fast")
