"""A minimal MPRIS player on the session bus that prints every call it receives (for test_mpris)."""

from PyQt6.QtCore import QCoreApplication, QObject, QTimer, pyqtClassInfo, pyqtProperty, pyqtSlot
from PyQt6.QtDBus import QDBusAbstractAdaptor, QDBusConnection


@pyqtClassInfo("D-Bus Interface", "org.mpris.MediaPlayer2.Player")
class PlayerAdaptor(QDBusAbstractAdaptor):
    def __init__(self, parent):
        super().__init__(parent)
        self.setAutoRelaySignals(True)
        self._volume = 0.5

    @pyqtSlot()
    def PlayPause(self):
        print("PlayPause", flush=True)

    @pyqtSlot()
    def Next(self):
        print("Next", flush=True)

    @pyqtSlot("qlonglong")
    def Seek(self, offset):
        print("Seek", offset, flush=True)

    @pyqtProperty(float)
    def Volume(self):
        return self._volume

    @Volume.setter
    def Volume(self, v):
        self._volume = v
        print("Volume", round(v, 2), flush=True)

app = QCoreApplication([])
root = QObject()
PlayerAdaptor(root)
bus = QDBusConnection.sessionBus()
assert bus.registerObject("/org/mpris/MediaPlayer2", root)
assert bus.registerService("org.mpris.MediaPlayer2.fakeplayer")
print("ready", flush=True)
QTimer.singleShot(10000, app.quit)  # never outlive the test
app.exec()
