import pytest

from quantize import testing


@pytest.fixture(scope="session")
def tiny_fp32(tmp_path_factory):
    """A random-weight LCR-S (dim 32, 5 classes) exported to FP32 ONNX + OpenVINO, once."""
    return testing.artifact(tmp_path_factory.getbasetemp() / "tiny_fp32", dim=32)


@pytest.fixture(scope="session")
def tiny_int8(tmp_path_factory):
    """The same model quantized (PTQ + 2 QAT steps on noise): FP32 and INT8 files, once."""
    return testing.artifact(tmp_path_factory.getbasetemp() / "tiny_int8", int8=True, dim=32)
