"""Whole-folder publishing: readers see the old export or the new one, never a mix."""

import os
import stat
import time

import pytest

from lcr_edge import io


def _tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_the_old_folder_stays_whole_until_the_new_one_takes_its_place(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(io, "exchange_paths", lambda a, b: False)
    out = tmp_path / "model"
    out.mkdir()
    (out / "model.json").write_text("old")
    (out / "keep.txt").write_text("kept")
    with io.building(out) as work:
        assert _tree(work) == {"model.json": "old", "keep.txt": "kept"}  # starts as a copy
        (work / "model.json").write_text("new")
        (work / "int8.xml").write_text("new")
        assert _tree(out) == {"model.json": "old", "keep.txt": "kept"}  # readers: the old one
    assert _tree(out) == {"model.json": "new", "keep.txt": "kept", "int8.xml": "new"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # nothing left beside it
    assert stat.S_IMODE(out.stat().st_mode) & 0o055  # not mkdtemp's private 0700


def test_a_run_that_fails_leaves_the_old_folder_and_no_leftovers(tmp_path):
    out = tmp_path / "model"
    out.mkdir()
    (out / "model.json").write_text("old")
    with pytest.raises(RuntimeError), io.building(out) as work:
        (work / "model.json").write_text("half")
        raise RuntimeError("killed")
    assert _tree(out) == {"model.json": "old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_what_killed_runs_left_beside_the_folder_is_removed_by_the_next(tmp_path):
    out = tmp_path / "model"
    stale, fresh = tmp_path / ".model.building-old", tmp_path / ".model.building-running"
    for d in (stale, fresh):
        d.mkdir()
        (d / "big.bin").write_text("x")
    hour_ago = time.time() - 2 * io.LEFTOVER_AGE_S
    os.utime(stale, (hour_ago, hour_ago))
    with io.building(out) as work:
        (work / "model.json").write_text("{}")
    assert not stale.exists() and fresh.exists()  # a run still going (recent) is left alone
    assert (out / "model.json").read_text() == "{}"


def test_an_export_that_fails_half_way_leaves_the_old_export_working(tiny_fp32, tmp_path,
                                                                     monkeypatch):
    import shutil

    from tiny_models import tiny_checkpoint

    from lcr_edge.model.checkpoint import load_checkpoint
    from lcr_edge.quantize import export
    from lcr_edge.runtime import Recognizer

    out = tmp_path / "deployed"
    shutil.copytree(tiny_fp32, out)
    before = _tree_bytes(out)
    model, ckpt = load_checkpoint(tiny_checkpoint(tmp_path / "other.pt", seed=3, dim=32))

    def dies(*args, **kwargs):
        raise KeyboardInterrupt  # the user's Ctrl-C after every file was written

    monkeypatch.setattr(export, "parity", dies)
    with pytest.raises(KeyboardInterrupt):
        export.export_fp32(model, ckpt, tmp_path / "other.pt", out)
    assert _tree_bytes(out) == before
    assert Recognizer.open(out, backend="onnxruntime").labels  # opens, hashes and all
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deployed", "other.pt"]


def _tree_bytes(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
