"""USB sync: the framed, checksummed protocol that moves banks, nets and kits between the Pi and a computer, and
brings its takes home.

``frames`` (bytes <-> frames), ``messages`` (requests and their validators),
``library`` (the data dir as items), ``hashes`` (files' SHA-256, computed once
and in the background), ``session`` (the device side as a pure state
machine), ``server`` (it in a thread on a serial port), ``client`` (the host
side), ``receive`` (a pull's bytes into memory or a folder), ``transport``
(pyserial or a file descriptor).
"""

from .client import PulledItem, SyncClient
from .frames import ProtocolError
from .library import DataDir
from .messages import KINDS, PROTOCOL_VERSION
from .server import SyncServer
from .session import DeviceSession
from .transport import FdTransport, SerialTransport

__all__ = ["PulledItem", "SyncClient", "ProtocolError", "DataDir", "KINDS", "PROTOCOL_VERSION", "SyncServer",
           "DeviceSession", "FdTransport", "SerialTransport"]
