"""Export and quantization of LCR checkpoints (needs torch, onnx, openvino, nncf).

`quantize.export` writes the FP32 artifact folder (ONNX, OpenVINO IR stateless and stateful,
model.json); `quantize.qat` adds INT8 models made with NNCF (post-training and quantization-aware).
The folder layout is `lcr_edge.artifact` (torch-free, read by `lcr_edge.runtime`).
"""

from lcr_edge.telemetry import decline_onnxruntime_telemetry, decline_openvino_telemetry

decline_openvino_telemetry()  # before export, qat or pipeline import openvino or nncf
decline_onnxruntime_telemetry()  # export checks its files with onnxruntime

from lcr_edge.quantize.extensions import prepare as _prepare_extensions  # noqa: E402

_prepare_extensions()  # NNCF's C++ build: a timeout that suits a busy CPU, no stale locks
