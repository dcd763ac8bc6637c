import stat

import pytest

from lcr_edge import io as lcr_io
from lcr_edge.io import atomic_path, write_json


def test_atomic_write_replaces_whole_and_keeps_the_usual_permissions(tmp_path, monkeypatch):
    """An export's files are readable by whoever the umask lets read them (mkstemp alone gives
    0600), and a write that fails leaves the old file and no temporary behind."""
    target = tmp_path / "model.json"
    monkeypatch.setattr(lcr_io, "_UMASK", 0o022)  # read once at import; the usual value
    write_json(target, {"a": 1})
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == '{\n  "a": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


def test_leftovers_of_killed_writes_are_removed_on_the_next_write(tmp_path):
    import os
    import time

    from lcr_edge.io import LEFTOVER_AGE_S, atomic_path, remove_leftovers

    old_tmp = tmp_path / ".last.pt.abc123.tmp"
    new_tmp = tmp_path / ".last.pt.def456.tmp"  # another write in progress: kept
    old_dir = tmp_path / ".staging-xyz"
    for p in (old_tmp, new_tmp):
        p.write_text("partial")
    old_dir.mkdir()
    (old_dir / "model.onnx").write_text("partial")
    past = time.time() - LEFTOVER_AGE_S - 10
    for p in (old_tmp, old_dir):
        os.utime(p, (past, past))
    with atomic_path(tmp_path / "last.pt") as t:
        t.write_text("done")
    assert not old_tmp.exists() and new_tmp.exists() and (tmp_path / "last.pt").read_text() == "done"
    assert remove_leftovers(tmp_path, ".staging-*") == [old_dir] and not old_dir.exists()


def test_leftovers_of_a_process_that_ended_go_at_once_those_of_a_running_one_stay(tmp_path):
    import subprocess
    import sys

    from lcr_edge.io import building, owned_prefix, remove_leftovers

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    dead = tmp_path / f".model.building-{int(ended.stdout)}-abc"  # a killed export, just now
    alive = tmp_path / f"{owned_prefix('.model.building-')}def"  # this process: in progress
    for p in (dead, alive):
        p.mkdir()
    assert remove_leftovers(tmp_path, ".model.building-*") == [dead]
    assert alive.exists()
    with building(tmp_path / "other") as work:
        assert work.name.startswith(owned_prefix(".other.building-"))
