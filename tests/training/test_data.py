import cv2
import numpy as np
import pytest
import torch

from lcr_edge.errors import LCRError
from lcr_edge.training.data import ClipDataset, Sampling, make_loader, sample_indices


def test_jester_reader_on_the_real_layout(jester):
    ds = ClipDataset.from_dir(jester, "train", frames=4)
    assert ds.labels == ["Swiping Left", "Swiping Right", "Stop Sign"]
    assert len(ds) == 9
    frames, edges, label, key = ds[0]
    assert frames.shape == (4, 3, 112, 112) and frames.dtype == torch.float32
    assert edges.shape == (4, 1, 112, 112) and set(edges.unique().tolist()) <= {0.0, 1.0}
    assert label == 0 and key == "101"
    assert sampling_rate(ds) == 12.0
    val = ClipDataset.from_dir(jester, "validation", frames=4)
    assert len(val) == 3 and [c.label for c in val.clips] == [0, 1, 2]


def sampling_rate(ds):
    return ds.sampling.frame_rate


def test_frames_may_live_under_20bn_jester_v1(jester):
    sub = jester / "20bn-jester-v1"
    sub.mkdir()
    for d in [p for p in jester.iterdir() if p.is_dir() and p.name.isdigit()]:
        d.rename(sub / d.name)
    assert ClipDataset.from_dir(jester, "train", frames=3)[0][2] == 0


def test_sampling_strides_pads_and_centres():
    s = Sampling(frames=4, stride=2)
    np.testing.assert_array_equal(sample_indices(20, s, None), [6, 8, 10, 12])
    rng = np.random.default_rng(0)
    starts = {int(sample_indices(20, s, rng)[0]) for _ in range(50)}
    assert min(starts) == 0 and max(starts) == 13  # random offset over the whole clip in training
    short = sample_indices(3, Sampling(frames=6, stride=1), None)
    assert len(short) == 6 and sorted(set(short)) == [0, 1, 2] and list(short) == sorted(short)


def test_training_items_are_deterministic_per_seed_epoch_and_index(jester):
    a = ClipDataset.from_dir(jester, "train", frames=3, train=True, seed=1)
    b = ClipDataset.from_dir(jester, "train", frames=3, train=True, seed=1)
    assert torch.equal(a[2][0], b[2][0])
    b.set_epoch(1)
    assert not torch.equal(a[2][0], b[2][0])  # another epoch, another crop/offset


def test_video_folder_reader(tmp_path):
    for label in ("clap", "wave"):
        (tmp_path / label).mkdir()
        for k in range(6):
            w = cv2.VideoWriter(str(tmp_path / label / f"{label}{k}.avi"),
                                cv2.VideoWriter_fourcc(*"MJPG"), 15, (64, 48))
            for t in range(5):
                w.write(np.full((48, 64, 3), 30 * t + (100 if label == "wave" else 0), np.uint8))
            w.release()
    train = ClipDataset.from_dir(tmp_path, "train", frames=4)
    val = ClipDataset.from_dir(tmp_path, "validation", frames=4)
    assert train.labels == ["clap", "wave"] and len(train) + len(val) == 12
    assert {c.key for c in train.clips}.isdisjoint({c.key for c in val.clips})
    frames, edges, label, _ = train[0]
    assert frames.shape == (4, 3, 112, 112) and train.sampling.source_fps == pytest.approx(15.0)


def test_corrupt_and_missing_frames_skip_the_clip_with_a_warning_and_a_count(jester):
    (jester / "101" / "00002.jpg").write_bytes(b"not a jpeg")
    for f in (jester / "102").iterdir():
        f.unlink()
    (jester / "102").rmdir()
    for f in (jester / "103").iterdir():  # cut short (a copy broken off): OpenCV decodes it grey
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    ds = ClipDataset.from_dir(jester, "train", frames=6)
    with pytest.warns(UserWarning, match="skipping clip 10[123]"):
        batches = list(make_loader(ds, batch_size=4, workers=0))
    assert sum(len(b.skipped) for b in batches) == 3
    assert sum(len(b.labels) for b in batches) == 6
    assert {s.key for b in batches for s in b.skipped} == {"101", "102", "103"}


def test_a_frame_cut_short_is_unreadable_not_half_grey(tmp_path):
    from lcr_edge.io import read_image

    img = np.random.default_rng(0).integers(0, 255, (48, 64, 3), np.uint8)
    for ext in (".jpg", ".png"):
        whole = tmp_path / f"whole{ext}"
        cv2.imwrite(str(whole), img)
        cut = tmp_path / f"cut{ext}"
        cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
        assert read_image(whole).shape == (48, 64, 3)
        assert read_image(cut) is None, ext
    assert read_image(tmp_path / "missing.jpg") is None


@pytest.mark.parametrize("line, match", [
    ("999;Thumbs Sideways", r"jester-v1-train.csv:4: unknown label 'Thumbs Sideways'"),
    ("999", r"jester-v1-train.csv:4: malformed line '999'"),
    ("999;Stop Sign;extra", r"jester-v1-train.csv:4: malformed line"),
    (";Stop Sign", r"jester-v1-train.csv:4: malformed line"),
])
def test_bad_csv_lines_stop_with_file_and_line(jester, line, match):
    csv = jester / "jester-v1-train.csv"
    rows = csv.read_text().splitlines()
    csv.write_text("\n".join(rows[:3] + [line] + rows[3:]) + "\n")
    with pytest.raises(LCRError, match=match):
        ClipDataset.from_dir(jester, "train")


def test_bad_folders_and_splits(tmp_path, jester):
    with pytest.raises(LCRError, match="data folder not found"):
        ClipDataset.from_dir(tmp_path / "nope")
    with pytest.raises(LCRError, match="neither a Jester layout"):
        ClipDataset.from_dir(tmp_path)
    with pytest.raises(LCRError, match="unknown split 'dev'"):
        ClipDataset.from_dir(jester, "dev")
    with pytest.raises(LCRError, match="differ from the model's"):
        ClipDataset.from_dir(jester, "train", labels=["a", "b", "c"])
    (jester / "jester-v1-labels.csv").write_text("A\nB\nA\n")
    with pytest.raises(LCRError, match="duplicate labels"):
        ClipDataset.from_dir(jester, "train")


def test_flip_mirrors_the_frames_and_swaps_mirrored_labels(jester):
    plain = ClipDataset.from_dir(jester, "train", frames=3, train=True, seed=2, jitter=0.0)
    flipped = ClipDataset.from_dir(jester, "train", frames=3, train=True, seed=2, jitter=0.0, flip=1.0)
    seen = set()
    for i in range(len(plain)):
        x, _, label, key = plain[i]
        fx, _, flabel, fkey = flipped[i]
        assert key == fkey
        # Jester's left and right are the actor's: a mirrored Swiping Left is a Swiping Right
        expected = {"Swiping Left": "Swiping Right", "Swiping Right": "Swiping Left",
                    "Stop Sign": "Stop Sign"}[plain.labels[label]]
        assert flipped.labels[flabel] == expected
        # the mirrored picture (resizing is not exactly flip-symmetric, so compare on average)
        mirror_err = (fx - torch.flip(x, dims=[-1])).abs().mean()
        assert mirror_err < 0.05 and mirror_err * 10 < (fx - x).abs().mean()
        seen.add(flabel)
    assert seen == {0, 1, 2}


def test_flip_leaves_classes_without_a_known_mirror_alone(tmp_path):
    from jester_fixture import make_jester

    root = make_jester(tmp_path / "own", labels=["Swiping Left", "Wave", "Stop Sign"])
    plain = ClipDataset.from_dir(root, "train", frames=3, train=True, seed=2, jitter=0.0)
    flipped = ClipDataset.from_dir(root, "train", frames=3, train=True, seed=2, jitter=0.0, flip=1.0)
    for i in range(len(plain)):
        x, _, label, _ = plain[i]
        fx, _, flabel, _ = flipped[i]
        name = plain.labels[label]
        if name in ("Swiping Left", "Wave"):  # no Swiping Right in the set; Wave's direction unknown
            assert flabel == label and torch.equal(fx, x)
        else:
            assert flabel == label and not torch.equal(fx, x)


def test_flip_must_be_a_probability(jester):
    with pytest.raises(LCRError, match="flip"):
        ClipDataset.from_dir(jester, "train", frames=3, train=True, flip=1.5)


def test_label_files_with_a_bom_or_latin1_bytes(jester):
    labels = jester / "jester-v1-labels.csv"
    labels.write_bytes(b"\xef\xbb\xbf" + labels.read_bytes())  # saved by a spreadsheet: a BOM
    assert ClipDataset.from_dir(jester, "train", frames=3).labels[0] == "Swiping Left"
    split = jester / "jester-v1-train.csv"
    split.write_bytes(split.read_bytes() + "999;Caf\xe9\n".encode("latin-1"))
    with pytest.raises(LCRError, match=r"jester-v1-train.csv:\d+: not UTF-8 text"):
        ClipDataset.from_dir(jester, "train", frames=3)


@pytest.mark.parametrize("line,match", [
    ("101;Swiping Left", "listed twice"),
    ("../x;Swiping Left", "not a folder name inside the set"),
    ("/etc;Stop Sign", "not a folder name inside the set"),
])
def test_bad_clip_ids_are_refused(jester, line, match):
    split = jester / "jester-v1-train.csv"
    split.write_text(split.read_text() + line + "\n")
    with pytest.raises(LCRError, match=match):
        ClipDataset.from_dir(jester, "train", frames=3)


def test_a_clip_in_both_splits_is_refused(jester):
    val = jester / "jester-v1-validation.csv"
    val.write_text(val.read_text() + "101;Swiping Left\n")
    with pytest.raises(LCRError, match="in both the train and the validation split"):
        ClipDataset.from_dir(jester, "train", frames=3)
