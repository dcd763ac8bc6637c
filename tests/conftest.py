import os

# Qt without a display: offscreen (without it and without DISPLAY the process aborts).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# One OpenMP thread (set before torch loads; subprocesses inherit it): the tests' models are tiny,
# and on a busy machine a second thread's barrier waits made a 0.4 s test take 16 s.
os.environ.setdefault("OMP_NUM_THREADS", "1")


# Exported tiny models shared by tests/export and tests/runtime (built once a session, lazily).
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny_fp32(tmp_path_factory):
    """A random-weight LCR-S (dim 32, 5 classes) exported to FP32 ONNX + OpenVINO, once."""
    import tiny_models as testing

    return testing.artifact(tmp_path_factory.getbasetemp() / "tiny_fp32", dim=32)


@pytest.fixture(scope="session")
def tiny_int8(tmp_path_factory):
    """The same model quantized (PTQ + 2 QAT steps on noise): FP32 and INT8 files, once."""
    import tiny_models as testing

    return testing.artifact(tmp_path_factory.getbasetemp() / "tiny_int8", int8=True, dim=32)
