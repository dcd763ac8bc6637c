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
