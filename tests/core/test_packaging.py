"""What `pip install .` puts into site-packages: one package, lcr_edge, holding every module."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parents[2]
FOLDERS = {"lcr_edge": "lcr_edge", "training": "lcr_edge/training", "quantize": "lcr_edge/quantize",
           "app": "lcr_edge/app"}  # folder in the repository -> where it installs


def test_the_wheel_installs_only_lcr_edge_with_every_module_and_no_test_helpers(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, src / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                        "--no-build-isolation", "-w", str(tmp_path / "wheel"), str(src)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())

    top = {n.split("/")[0] for n in names}
    assert top == {"lcr_edge", "lcr_edge-0.1.0.dist-info"}, top  # no top-level app, training, ...
    for folder, installed in FOLDERS.items():
        for module in (ROOT / folder).rglob("*.py"):
            if "__pycache__" in module.parts:
                continue
            rel = module.relative_to(ROOT / folder).as_posix()
            assert f"{installed}/{rel}" in names, f"{folder}/{rel} is not in the wheel"
    assert not any("tiny_models" in n or n.startswith("tests/") for n in names)
    assert "lcr_edge/assets/model/model.json" in names and "lcr_edge/profiles/media.toml" in names
