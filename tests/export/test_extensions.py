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
