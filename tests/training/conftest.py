import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from jester_fixture import make_jester  # noqa: E402


@pytest.fixture
def jester(tmp_path):
    return make_jester(tmp_path / "jester")
