"""Nothing is written outside the user's folders: OpenVINO's and ONNX Runtime's telemetry files
are never created."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_opening_the_bundled_model_and_loading_quantize_write_nothing_in_home(tmp_path):
    code = ("from lcr_edge.runtime import Recognizer; "
            "Recognizer.open('lcr_edge/assets/model', backend='openvino'); "
            "Recognizer.open('lcr_edge/assets/model', backend='onnxruntime'); "
            "import quantize.export, nncf")
    env = {**os.environ, "HOME": str(tmp_path)}
    env.pop("CI", None)  # OpenVINO itself declines in CI; the project must without it
    env.pop("ORT_DISABLE_TELEMETRY", None)
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=300)
    assert not (tmp_path / "intel").exists(), sorted(p.name for p in tmp_path.iterdir())
    assert not (tmp_path / ".cache" / "Microsoft").exists(), sorted(tmp_path.rglob("*"))
