"""Settings kept with QSettings (source, model, backend, profile, thresholds, view options) and
the dialog that edits them. `AppSettings` is a plain dict view so tests can use an .ini file."""

from __future__ import annotations

import json

from PyQt6.QtCore import QSettings
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lcr_edge.actions import bundled_profiles
from lcr_edge.artifact import BACKENDS
from lcr_edge.labels import IDLE_LABELS
from lcr_edge.sources import list_cameras

DEFAULTS = {
    "source": "",  # "": the first camera, else the bundled demo clip
    "model": "",
    "backend": "openvino",
    "profile": "media",
    "threshold": 0.0,  # 0: the profile's
    "min_frames": 0,  # 0: the profile's
    "thresholds": {},  # per gesture, over the profile's
    "mirror": True,
    "edges": False,
    "playlist": [],
}


class AppSettings:
    """Typed get/set over QSettings (JSON for dicts and lists, which QSettings stores badly)."""

    def __init__(self, qsettings: QSettings | None = None):
        self.q = qsettings or QSettings("lcr-edge", "app")

    def get(self, key: str):
        default = DEFAULTS[key]
        raw = self.q.value(key, None)
        if raw is None:
            return default
        try:
            if isinstance(default, bool):
                return raw if isinstance(raw, bool) else str(raw).lower() == "true"
            if isinstance(default, (dict, list)):
                value = json.loads(raw)
                return value if isinstance(value, type(default)) else default
            return type(default)(raw)
        except (TypeError, ValueError):  # a setting edited by hand into nonsense: the default
            return default

    def set(self, key: str, value) -> None:
        if isinstance(DEFAULTS[key], (dict, list)):
            value = json.dumps(value)
        self.q.setValue(key, value)

    def all(self) -> dict:
        return {k: self.get(k) for k in DEFAULTS}

    def sync(self) -> None:
        self.q.sync()


class SettingsDialog(QDialog):
    """Camera picker (or a video / folder), model folder, backend, profile, thresholds."""

    def __init__(self, values: dict, gestures: list[str], parent=None, events=None):
        """events: the profile's EventConfig, whose values the "from profile" fields show."""
        super().__init__(parent)
        self.setWindowTitle("LCR-Edge settings")
        outer = QVBoxLayout(self)
        form = QFormLayout()
        outer.addLayout(form)
        # paths are long: their fields get room for ~48 characters, the browse buttons only theirs
        self._path_width = self.fontMetrics().horizontalAdvance("x" * 48)

        self.source = QComboBox(self)
        self.source.setEditable(True)
        for idx, name in list_cameras():
            self.source.addItem(f"{idx}  ({name})", str(idx))
        self.source.setEditText(str(values["source"]))
        self.source.lineEdit().setPlaceholderText("automatic: the first camera, else the demo clip")
        form.addRow("Source", self._with_browse(self.source, self._pick_video))

        self.model = QLineEdit(values["model"], self)
        self.model.setPlaceholderText("exported model folder")
        form.addRow("Model", self._with_browse(self.model, self._pick_model))
        self.backend = QComboBox(self)
        self.backend.addItems(BACKENDS)
        self.backend.setCurrentText(values["backend"])
        form.addRow("Backend", self.backend)

        self.profile = QComboBox(self)
        self.profile.setEditable(True)
        self.profile.addItems(bundled_profiles())
        self.profile.setEditText(values["profile"])
        form.addRow("Profile", self._with_browse(self.profile, self._pick_profile))

        self.threshold = QDoubleSpinBox(self)
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setSpecialValueText(
            f"profile's ({events.threshold:.2f})" if events is not None else "from profile")
        self.threshold.setValue(values["threshold"])
        form.addRow("Threshold (all)", self.threshold)
        self.min_frames = QSpinBox(self)
        self.min_frames.setRange(0, 30)
        self.min_frames.setSpecialValueText(
            f"profile's ({events.min_frames})" if events is not None else "from profile")
        self.min_frames.setValue(values["min_frames"])
        form.addRow("Min. frames", self.min_frames)
        # One row per gesture that can fire (idle labels never do), in a scrolled box: 25 rows
        # would make the dialog taller than a 768-pixel laptop screen.
        self.per_gesture: dict[str, QDoubleSpinBox] = {}
        rows = QWidget(self)
        per_form = QFormLayout(rows)
        for g in [g for g in gestures if g not in IDLE_LABELS]:
            box = QDoubleSpinBox(self)
            box.setRange(0.0, 1.0)
            box.setSingleStep(0.05)
            box.setSpecialValueText(f"profile's ({events.threshold_for(g):.2f})"
                                    if events is not None else "default")
            box.setValue(float(values["thresholds"].get(g, 0.0)))
            self.per_gesture[g] = box
            per_form.addRow(g, box)
        group = QGroupBox("Threshold per gesture", self)
        scroll = QScrollArea(group)
        scroll.setWidget(rows)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(rows.sizeHint().width() + 24)  # no sideways scrolling
        scroll.setMaximumHeight(min(rows.sizeHint().height() + 8, 320))
        QVBoxLayout(group).addWidget(scroll)
        group.setVisible(bool(self.per_gesture))
        outer.addWidget(group, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        outer.addWidget(buttons)

    def _with_browse(self, field, pick) -> QWidget:
        box = QWidget(self)
        lay = QHBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        field.setMinimumWidth(self._path_width)
        lay.addWidget(field, 1)
        b = QPushButton("…", box)
        b.setToolTip("Browse…")
        b.setFixedWidth(b.fontMetrics().horizontalAdvance("…") + 24)
        b.clicked.connect(pick)
        lay.addWidget(b)
        return box

    def _pick_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Video file", "",
                                              "Video (*.mp4 *.avi *.mkv *.mov *.webm)")
        if path:
            self.source.setEditText(path)

    def _pick_model(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Exported model folder")
        if path:
            self.model.setText(path)

    def _pick_profile(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Profile", "", "Profiles (*.toml)")
        if path:
            self.profile.setEditText(path)

    def values(self) -> dict:
        src = self.source.currentText().strip()
        data = self.source.currentData()
        if data is not None and src == self.source.itemText(self.source.currentIndex()):
            src = data
        return {"source": src, "model": self.model.text().strip(),
                "backend": self.backend.currentText(),
                "profile": self.profile.currentText().strip(),
                "threshold": self.threshold.value(), "min_frames": self.min_frames.value(),
                "thresholds": {g: b.value() for g, b in self.per_gesture.items() if b.value()}}
