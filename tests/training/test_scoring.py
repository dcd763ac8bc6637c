import numpy as np

from lcr_edge.scoring import paper_scores, paper_window
from lcr_edge.training.evaluate import EvalResult


def test_paper_window_is_the_last_0_83_s_at_the_model_frame_rate():
    assert paper_window(12.0) == 10  # the paper: 10 frames of a 12 fps clip
    assert paper_window(3.0) == 3  # stride 4: 2.5 frames, rounded up
    assert paper_window(6.0) == 5
    assert paper_window(0.5) == 1


def test_paper_score_reads_only_the_window():
    """8 frames at 3 fps: the first five say class 0 with confidence, the last three say class 1
    weakly. The paper's 0.83 s window (3 frames) picks class 1; a 10-frame window would pick 0."""
    probs = np.zeros((1, 8, 2))
    probs[0, :5] = [0.99, 0.01]
    probs[0, 5:] = [0.40, 0.60]
    assert paper_scores(probs, paper_window(3.0)).argmax(-1)[0] == 1
    assert paper_scores(probs, 10).argmax(-1)[0] == 0
    res = EvalResult(["a", "b"], probs, np.array([1]), ["clip"], window=paper_window(3.0))
    m = res.metrics()
    assert m["top1_paper"] == 1.0 and m["paper_window"] == 3
