"""LCR-Edge sends nothing anywhere and writes only where the user asked: OpenVINO's usage telemetry
(which otherwise writes a client id under ~/intel/ the first time openvino is imported) is declined
before openvino loads, and ONNX Runtime's (a device id and an event database under
~/.cache/Microsoft/DeveloperTools/ on import) before onnxruntime loads. Call
`decline_openvino_telemetry()` before the first `import openvino` (and before nncf, which imports
it), `decline_onnxruntime_telemetry()` before the first `import onnxruntime`.
"""

from __future__ import annotations

import os

_done = False


def decline_openvino_telemetry() -> None:
    """Answer OpenVINO's telemetry consent check with "declined" for this process (idempotent;
    nothing to do when openvino-telemetry is not installed)."""
    global _done
    if _done:
        return
    _done = True
    try:
        from openvino_telemetry.utils.opt_in_checker import ConsentCheckResult, OptInChecker
    except ImportError:
        return
    OptInChecker.check = lambda self, *args, **kwargs: ConsentCheckResult.DECLINED


def decline_onnxruntime_telemetry() -> None:
    """ONNX Runtime reads ORT_DISABLE_TELEMETRY when it loads (the user's own setting wins)."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
