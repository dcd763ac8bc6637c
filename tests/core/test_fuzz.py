"""Random and mutated files through the parsers users feed: each either loads or raises one
LCRError, never another exception (a traceback)."""

import json
import random
import shutil
from pathlib import Path

import pytest

from lcr_edge.actions import parse_profile
from lcr_edge.artifact import model_file, read_metadata
from lcr_edge.errors import LCRError

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "lcr_edge" / "assets" / "model"
PROFILE = (ROOT / "lcr_edge" / "profiles" / "media.toml").read_text()
ODD_VALUES = [None, True, 0, -3, 1e309, float("nan"), "fast", "", [], [1, 2], {}, {"a": 1},
              "../../etc/passwd", "/abs/model.xml", ["x"] * 3, 2 ** 70]


def mutate_json(rng, obj):
    """A copy of obj with one value somewhere replaced, deleted, or a key added."""
    obj = json.loads(json.dumps(obj))
    node, key = obj, rng.choice(list(obj))
    for _ in range(rng.randint(0, 3)):  # walk down a few levels
        child = node[key]
        if not (isinstance(child, (dict, list)) and child) or rng.random() < 0.4:
            break
        node = child
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
    what = rng.random()
    if what < 0.15 and isinstance(node, dict):
        del node[key]
    else:
        node[key] = rng.choice(ODD_VALUES)
    return obj


def test_mutated_model_json_is_loaded_or_refused_with_one_message(tmp_path):
    rng = random.Random(0)
    meta = json.loads((MODEL / "model.json").read_text())
    folder = tmp_path / "m"
    shutil.copytree(MODEL, folder)
    refused = 0
    for _ in range(300):
        (folder / "model.json").write_text(json.dumps(mutate_json(rng, meta)))
        try:
            got = read_metadata(folder)
            for precision, kinds in got["files"].items():
                for kind in kinds:
                    model_file(folder, got, precision, kind, verify=False)
        except LCRError:
            refused += 1
    assert 50 < refused < 300  # both outcomes happen: the mutations reach deep and shallow keys


@pytest.mark.parametrize("seed", range(3))
def test_mutated_and_random_profiles_are_loaded_or_refused_with_one_message(seed):
    rng = random.Random(seed)
    lines = PROFILE.splitlines()
    pieces = ["=", "[", "]", "{", "}", '"', "5", "true", "inf", "nan", "player:", "key:ctrl+",
              "[[gestures]]", "\x00", "é", "'''", "1e999", "-1", "hold", "single"]
    refused = {"mutated": 0, "junk": 0}
    for _ in range(200):
        mutated = list(lines)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(mutated))
            line = mutated[i]
            j = rng.randint(0, len(line))
            mutated[i] = line[:j] + rng.choice(pieces) + line[j + rng.randint(0, 3):]
        junk = "".join(rng.choice(pieces + ["\n", " ", "a"]) for _ in range(rng.randint(0, 60)))
        for kind, text in (("mutated", "\n".join(mutated)), ("junk", junk)):
            try:
                parse_profile(text, f"{kind}.toml")
            except LCRError as exc:
                assert str(exc).startswith(f"{kind}.toml"), str(exc)  # says which file
                refused[kind] += 1
    # both outcomes happen: the fuzz reaches the checks past TOML's own parser
    assert 0 < refused["mutated"] < 200 and 0 < refused["junk"] < 200, refused
