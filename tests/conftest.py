import os

# Qt without a display: offscreen (without it and without DISPLAY the process aborts).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
