"""Nothing is written outside the user's folders: OpenVINO's telemetry id is never created."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_opening_the_bundled_model_and_loading_quantize_write_nothing_in_home(tmp_path):
    code = ("from lcr_edge.runtime import Recognizer; "
            "Recognizer.open('lcr_edge/assets/model', backend='openvino'); "
            "import quantize.export, nncf")
    env = {**os.environ, "HOME": str(tmp_path)}
    env.pop("CI", None)  # OpenVINO itself declines in CI; the project must without it
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=300)
    assert not (tmp_path / "intel").exists(), sorted(p.name for p in tmp_path.iterdir())
