"""Qt runs offscreen in tests; `fakes` (scripted recognizers, synthetic videos) is importable."""

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(__file__))
