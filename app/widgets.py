"""Display widgets, all painted on the GUI thread from data handed over by the GUI timer:
the live view (mirrored for display only, optional edge overlay, gesture banner), the top-5
probability bars and the gesture gallery."""

from __future__ import annotations

import cv2
import numpy as np
from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QImage, QPainter
from PyQt6.QtWidgets import QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from lcr_edge.app.gallery import HOW_TO


def bgr_to_qimage(image: np.ndarray) -> QImage:
    """HxWx3 BGR uint8 -> a QImage that owns its pixels (safe after `image` changes)."""
    rgb = np.ascontiguousarray(image[:, :, ::-1])
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class VideoView(QWidget):
    """The live view. `show_frame(bgr)` sets the picture; the banner and the status line are
    drawn over it. Mirroring is for display only: the model sees the unmirrored frame."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.mirror = True
        self.image: QImage | None = None
        self.edges: np.ndarray | None = None  # HxW 0/1, from the worker
        self.banner = ""
        self.hint = ""  # why the current candidate did not fire
        self.message = ""  # source / model problems, in red
        self.frames_drawn = 0

    def show_frame(self, bgr: np.ndarray, edges: np.ndarray | None = None) -> None:
        if edges is not None:
            e = cv2.resize(edges, (bgr.shape[1], bgr.shape[0]), interpolation=cv2.INTER_NEAREST)
            bgr = bgr.copy()
            bgr[e > 0] = (0, 255, 255)  # yellow edges over the picture
        if self.mirror:
            bgr = bgr[:, ::-1]
        self.image = bgr_to_qimage(bgr)
        self.frames_drawn += 1
        self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(20, 20, 24))
        if self.image is not None:
            img = self.image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            x, y = (self.width() - img.width()) / 2, (self.height() - img.height()) / 2
            p.drawImage(QRectF(x, y, img.width(), img.height()), self.image)
        font = QFont(self.font())
        if self.banner:
            font.setPointSize(20)
            font.setBold(True)
            p.setFont(font)
            band = QRectF(0, 0, self.width(), 46)
            p.fillRect(band, QColor(255, 120, 0, 210))
            p.setPen(Qt.GlobalColor.white)
            p.drawText(band, Qt.AlignmentFlag.AlignCenter, self.banner)
        font.setPointSize(10)
        font.setBold(False)
        p.setFont(font)
        if self.hint:
            band = QRectF(0, self.height() - 24, self.width(), 24)
            p.fillRect(band, QColor(0, 0, 0, 150))
            p.setPen(QColor(220, 220, 220))
            p.drawText(band.adjusted(8, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, self.hint)
        if self.message:
            band = QRectF(0, self.height() / 2 - 30, self.width(), 60)
            p.fillRect(band, QColor(160, 0, 0, 220))
            p.setPen(Qt.GlobalColor.white)
            p.drawText(band.adjusted(10, 0, -10, 0), Qt.AlignmentFlag.AlignCenter
                       | Qt.TextFlag.TextWordWrap, self.message)
        p.end()


class ProbabilityBars(QWidget):
    """Top-5 smoothed probabilities as horizontal bars, with each label's threshold tick."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[tuple[str, float, float]] = []  # (label, score, threshold)
        self.setMinimumHeight(5 * 22 + 4)

    def set_rows(self, rows) -> None:
        self.rows = list(rows)[:5]
        self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        w, h = self.width(), 20
        label_w = min(230, w // 2)
        for i, (label, score, thr) in enumerate(self.rows):
            y = 2 + i * (h + 2)
            p.setPen(self.palette().windowText().color())
            p.drawText(QRectF(0, y, label_w - 6, h), Qt.AlignmentFlag.AlignRight
                       | Qt.AlignmentFlag.AlignVCenter, label)
            bar_w = w - label_w - 50
            p.fillRect(QRectF(label_w, y + 3, bar_w, h - 6), QColor(60, 60, 60, 80))
            colour = QColor(255, 120, 0) if thr and score >= thr else QColor(70, 130, 200)
            p.fillRect(QRectF(label_w, y + 3, bar_w * max(0.0, min(1.0, score)), h - 6), colour)
            if thr:
                p.fillRect(QRectF(label_w + bar_w * thr - 1, y + 1, 2, h - 2), QColor(200, 0, 0))
            p.drawText(QRectF(label_w + bar_w + 4, y, 46, h), Qt.AlignmentFlag.AlignVCenter,
                       f"{score:.2f}")
        p.end()


class Gallery(QScrollArea):
    """How to perform each gesture the profile maps, and what it does."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setAlignment(Qt.AlignmentFlag.AlignTop)
        inner = QWidget(self)
        lay = QVBoxLayout(inner)
        lay.addWidget(self.label)
        self.setWidget(inner)

    def set_profile(self, profile) -> None:
        rows = []
        for gesture, binding in profile.bindings.items():
            does = "; ".join([f"{a}" for a in binding.single]
                             + [f"hold: {a}" for a in binding.hold])
            rows.append(f"<p><b>{gesture}</b> &rarr; <code>{does}</code><br>"
                        f"{HOW_TO.get(gesture, '')}</p>")
        self.label.setText(f"<h3>Profile “{profile.name}”</h3>"
                           + (f"<p><i>{profile.description}</i></p>" if profile.description
                              else "")
                           + "".join(rows)
                           + "<p style='color:gray'>Left, right and clockwise are as you see "
                           "them (Jester's convention); the live view is a mirror, so the hand "
                           "on screen moves the way you move it. Hold the gesture for about half "
                           "a second, about an arm's length from the camera.</p>")
