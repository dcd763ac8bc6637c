"""The built-in media player the gestures drive: QMediaPlayer + QVideoWidget, a playlist from
files or a folder, and its own buttons. `command(name)` runs one of lcr_edge.actions'
PLAYER_COMMANDS and says what it did (the action log shows that text)."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import Qt, QUrl, pyqtSignal
from PyQt6.QtMultimedia import QAudioOutput, QMediaPlayer
from PyQt6.QtMultimediaWidgets import QVideoWidget
from PyQt6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QListWidget,
    QPushButton,
    QSlider,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from lcr_edge.actions import PLAYER_COMMANDS, SEEK_STEP_S, VOLUME_STEP

MEDIA_EXTENSIONS = (".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".mp3", ".ogg", ".flac",
                    ".wav", ".m4a", ".opus")


class PlayerWidget(QWidget):
    changed = pyqtSignal()  # anything the user would see changed (state, track, volume)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.playlist: list[Path] = []
        self.index = -1
        self.player = QMediaPlayer(self)
        self.audio = QAudioOutput(self)
        self.audio.setVolume(0.5)
        self.player.setAudioOutput(self.audio)
        self.video = QVideoWidget(self)
        self.video.setMinimumSize(320, 180)
        self.player.setVideoOutput(self.video)
        self.player.mediaStatusChanged.connect(self._on_status)
        self.player.playbackStateChanged.connect(lambda *_: self._sync())

        self.list = QListWidget(self)
        self.list.setMaximumHeight(90)
        self.list.itemDoubleClicked.connect(lambda item: self.play_index(self.list.row(item)))

        st = self.style()
        icon = st.standardIcon
        SP = QStyle.StandardPixmap
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for name, pixmap, tip in [
            ("previous", SP.SP_MediaSkipBackward, "Previous"),
            ("seek_back", SP.SP_MediaSeekBackward, f"Back {SEEK_STEP_S:g} s"),
            ("play_pause", SP.SP_MediaPlay, "Play / pause"),
            ("seek_forward", SP.SP_MediaSeekForward, f"Forward {SEEK_STEP_S:g} s"),
            ("next", SP.SP_MediaSkipForward, "Next"),
            ("mute", SP.SP_MediaVolume, "Mute"),
            ("fullscreen", SP.SP_TitleBarMaxButton, "Full screen"),
        ]:
            b = QPushButton(icon(pixmap), "", self)
            b.setToolTip(tip)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _=False, n=name: self.command(n))
            self.buttons[name] = b
            row.addWidget(b)
        self.volume_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.volume_slider.setRange(0, 100)
        self.volume_slider.setValue(50)
        self.volume_slider.setMaximumWidth(100)
        self.volume_slider.valueChanged.connect(lambda v: self.audio.setVolume(v / 100))
        row.addWidget(self.volume_slider)
        add_files = QPushButton("Add files…", self)
        add_files.clicked.connect(self._pick_files)
        add_folder = QPushButton("Folder…", self)
        add_folder.clicked.connect(self._pick_folder)
        row.addStretch(1)
        row.addWidget(add_files)
        row.addWidget(add_folder)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.video, 1)
        lay.addLayout(row)
        lay.addWidget(self.list)

    # ------------------------------------------------------------ playlist
    def set_playlist(self, paths, autoplay: bool = False) -> None:
        """Files and folders (their media files, in name order) replace the playlist."""
        files: list[Path] = []
        for p in map(Path, paths):
            if p.is_dir():
                files += sorted(f for f in p.iterdir() if f.suffix.lower() in MEDIA_EXTENSIONS)
            elif p.is_file():
                files.append(p)
        self.playlist = files
        self.list.clear()
        self.list.addItems([f.name for f in files])
        self.index = -1
        if files:
            self.load_index(0)
            if autoplay:
                self.player.play()
        self._sync()

    def load_index(self, i: int) -> None:
        if not self.playlist:
            return
        self.index = i % len(self.playlist)
        self.player.setSource(QUrl.fromLocalFile(str(self.playlist[self.index].resolve())))
        self.list.setCurrentRow(self.index)

    def play_index(self, i: int) -> None:
        self.load_index(i)
        self.player.play()
        self._sync()

    def _pick_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Media files", "",
                                                "Media (" + " ".join(f"*{e}" for e in
                                                                     MEDIA_EXTENSIONS) + ")")
        if files:
            self.set_playlist(files)

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Media folder")
        if folder:
            self.set_playlist([folder])

    # ------------------------------------------------------------ commands
    def command(self, name: str) -> str:
        """Run a built-in player command; returns what happened, for the action log."""
        if name not in PLAYER_COMMANDS:
            raise ValueError(f"unknown player command {name!r}")
        p, state = self.player, self.player.playbackState()
        playing = state == QMediaPlayer.PlaybackState.PlayingState
        if name in ("play_pause", "play", "pause", "stop", "next", "previous", "seek_forward",
                    "seek_back") and not self.playlist:
            return "playlist is empty (add files with the player's buttons)"
        if name == "play_pause":
            p.pause() if playing else p.play()
            msg = "paused" if playing else "playing"
        elif name == "play":
            p.play()
            msg = "playing"
        elif name == "pause":
            p.pause()
            msg = "paused"
        elif name == "stop":
            p.stop()
            msg = "stopped"
        elif name in ("next", "previous"):
            self.load_index(self.index + (1 if name == "next" else -1))
            if playing:
                p.play()
            msg = f"track {self.index + 1}/{len(self.playlist)}: {self.playlist[self.index].name}"
        elif name in ("seek_forward", "seek_back"):
            step = int(SEEK_STEP_S * 1000) * (1 if name == "seek_forward" else -1)
            pos = max(0, p.position() + step)
            if p.duration() > 0:
                pos = min(pos, p.duration())
            p.setPosition(pos)
            msg = f"position {pos / 1000:.1f} s"
        elif name in ("volume_up", "volume_down"):
            step = VOLUME_STEP if name == "volume_up" else -VOLUME_STEP
            vol = min(1.0, max(0.0, round(self.audio.volume() + step, 2)))
            self.audio.setVolume(vol)
            self.volume_slider.blockSignals(True)
            self.volume_slider.setValue(round(vol * 100))
            self.volume_slider.blockSignals(False)
            msg = f"volume {round(vol * 100)} %"
        elif name == "mute":
            self.audio.setMuted(not self.audio.isMuted())
            msg = "muted" if self.audio.isMuted() else "unmuted"
        else:  # fullscreen
            self.video.setFullScreen(not self.video.isFullScreen())
            msg = "full screen" if self.video.isFullScreen() else "windowed"
        self._sync()
        return msg

    def leave_fullscreen(self) -> None:
        if self.video.isFullScreen():
            self.video.setFullScreen(False)

    def _on_status(self, status) -> None:
        if status == QMediaPlayer.MediaStatus.EndOfMedia and len(self.playlist) > 1:
            self.play_index(self.index + 1)

    def _sync(self) -> None:
        playing = self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState
        SP = QStyle.StandardPixmap
        self.buttons["play_pause"].setIcon(self.style().standardIcon(
            SP.SP_MediaPause if playing else SP.SP_MediaPlay))
        self.buttons["mute"].setIcon(self.style().standardIcon(
            SP.SP_MediaVolumeMuted if self.audio.isMuted() else SP.SP_MediaVolume))
        self.changed.emit()
