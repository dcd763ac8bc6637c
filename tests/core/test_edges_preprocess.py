import cv2
import numpy as np
import pytest

from lcr_edge.edges import EdgeParams, edge_map, otsu_threshold
from lcr_edge.errors import LCRError
from lcr_edge.preprocess import Preprocess


@pytest.mark.parametrize("seed", range(12))
def test_otsu_threshold_equals_opencv(seed):
    rng = np.random.default_rng(seed)
    kind = seed % 3
    if kind == 0:
        grey = rng.integers(0, 256, (48, 64), dtype=np.uint8)
    elif kind == 1:  # bimodal
        grey = np.clip(rng.normal(70, 20, (40, 50)), 0, 255).astype(np.uint8)
        grey[:, 25:] = np.clip(rng.normal(180, 25, (40, 25)), 0, 255).astype(np.uint8)
    else:  # few levels: ties between candidate thresholds
        grey = rng.choice([10, 200, 201, 55], size=(30, 31)).astype(np.uint8)
    cv_tau, _ = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    assert otsu_threshold(grey) == int(cv_tau)


def test_edge_map_is_canny_with_otsu_thresholds():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (100, 176, 3), dtype=np.uint8)
    frame = cv2.GaussianBlur(frame, (7, 7), 2)
    cv2.circle(frame, (88, 50), 30, (250, 250, 250), -1)
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    tau, _ = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    expected = (cv2.Canny(grey, 0.5 * tau, tau) > 0).astype(np.uint8)
    e = edge_map(frame)
    assert e.dtype == np.uint8 and e.shape == (100, 176)
    assert set(np.unique(e)) <= {0, 1} and e.sum() > 50
    np.testing.assert_array_equal(e, expected)


@pytest.mark.parametrize("value", [0, 128, 255])
def test_blank_frame_gives_an_empty_edge_map(value):
    assert edge_map(np.full((60, 80, 3), value, np.uint8)).sum() == 0


def test_preprocess_shapes_dtypes_and_normalisation():
    pre = Preprocess()
    frame = np.zeros((100, 176, 3), np.uint8)
    frame[..., 2] = 255  # pure red in BGR
    x, e = pre(frame)
    assert x.shape == (3, 112, 112) and x.dtype == np.float32
    assert e.shape == (1, 112, 112) and e.dtype == np.float32
    np.testing.assert_allclose(x[0], (1.0 - 0.5) / 0.25)  # RGB order: red comes first
    np.testing.assert_allclose(x[2], (0.0 - 0.5) / 0.25)
    assert e.sum() == 0
    assert Preprocess.from_dict(pre.to_dict()) == pre


def test_preprocess_edges_align_with_the_resized_frame():
    frame = np.zeros((224, 224, 3), np.uint8)
    cv2.rectangle(frame, (56, 56), (168, 168), (255, 255, 255), -1)
    _, e = Preprocess()(frame)
    ys, xs = np.nonzero(e[0])
    assert 25 <= ys.min() <= 30 and 82 <= ys.max() <= 86 and 25 <= xs.min() <= 30


@pytest.mark.parametrize("bad, match", [
    (np.zeros((10, 10), np.uint8), "HxWx3"),
    (np.zeros((10, 10, 4), np.uint8), "HxWx3"),
    (np.zeros((10, 10, 3), np.float32), "uint8"),
    ([[1, 2, 3]], "numpy array"),
    (np.zeros((1, 10, 3), np.uint8), "at least 2x2"),
])
def test_bad_frames_raise_one_clear_error(bad, match):
    with pytest.raises(LCRError, match=match):
        edge_map(bad)
    with pytest.raises(LCRError, match=match):
        Preprocess()(bad)


def test_bad_metadata_raises_one_clear_error():
    with pytest.raises(LCRError, match="malformed"):
        Preprocess.from_dict({"mean": [0.5] * 3})
    with pytest.raises(LCRError, match="edge method"):
        EdgeParams.from_dict({"method": "sobel"})

