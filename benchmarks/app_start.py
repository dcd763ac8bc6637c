"""How long after `lcr-edge app` starts does the window answer? The window, the bundled model (or
`--model`) and the demo clip (or `--source`), in this process as `lcr-edge app` builds them:

    QT_QPA_PLATFORM=offscreen python benchmarks/app_start.py --runs 3

Prints, per run, the seconds from the start of the process (first run: with its imports) to the
window showing, and from the window showing to the model's first answer (its first per-frame result:
the model loaded and compiled on the worker thread while the view already runs). Settings are kept
in a throwaway folder, so the user's remembered choices neither change the figures nor are changed.
"""

from __future__ import annotations

import time

T0 = time.perf_counter()  # before the heavy imports: the first run counts them

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="exported folder [default: the bundled model]")
    ap.add_argument("--source", default="demo", help="video, camera index or demo [default: demo]")
    ap.add_argument("--runs", type=int, default=3, help="windows opened one after another")
    ap.add_argument("--timeout", type=float, default=60.0, help="give up on a run after this long")
    args = ap.parse_args(argv)
    if args.runs < 1 or args.timeout <= 0:
        ap.error("--runs must be at least 1 and --timeout above 0")

    from PyQt6.QtCore import QSettings
    from PyQt6.QtWidgets import QApplication

    from lcr_edge.app.settings import AppSettings
    from lcr_edge.app.window import MainWindow

    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            start = T0 if run == 0 else time.perf_counter()
            ini = QSettings(os.path.join(tmp, f"run{run}.ini"), QSettings.Format.IniFormat)
            win = MainWindow(AppSettings(ini), source=args.source, model=args.model)
            win.show()
            shown = time.perf_counter() - start
            deadline = time.perf_counter() + args.timeout
            while win.first_answer_s is None and time.perf_counter() < deadline:
                qapp.processEvents()
                time.sleep(0.005)
            answer = win.first_answer_s
            errors = dict(win.errors)
            win.close()
            qapp.processEvents()
            if answer is None:
                print(f"run {run + 1}: no answer within {args.timeout:.0f} s {errors or ''}")
                return 1
            rows.append((shown, answer))
            print(f"run {run + 1}: window shown {shown:5.2f} s after "
                  f"{'the process started' if run == 0 else 'the run started'}, "
                  f"first answer {answer:5.2f} s after the window showed")
    later = [a for _, a in rows[1:]] or [rows[0][1]]
    print(f"first answer after the window showed: first run {rows[0][1]:.2f} s, "
          f"later runs median {sorted(later)[len(later) // 2]:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
