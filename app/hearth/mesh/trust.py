"""The devices this one has paired with, persisted; changes reach listeners at once."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hearth.core.device_id import DeviceId, device_id, matches
from hearth.store import json_state

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrustedDevice:
    device_id: DeviceId
    name: str
    cert_pem: str
    paired_at: float
    last_seen: float = 0.0
    address: str = ""  # host:port where it was last reached

    @property
    def cert_der(self) -> bytes:
        return x509.load_pem_x509_certificate(self.cert_pem.encode()).public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class _TrustFile:
    devices: list[TrustedDevice] = field(default_factory=list)


def cert_der_from_pem(pem: str) -> bytes:
    """DER of a PEM certificate; ValueError if it is not one."""
    return x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)


class TrustStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._devices: dict[str, TrustedDevice] = {}
        self._listeners: list[Callable[[], None]] = []
        for dev in json_state.load(path, _TrustFile, _TrustFile).devices:
            # A hand-edited entry whose ID does not match its certificate is ignored.
            try:
                genuine = device_id(dev.cert_der) == dev.device_id
            except ValueError:
                genuine = False
            if genuine:
                self._devices[dev.device_id] = dev
            else:
                log.warning("paired device %r in %s does not match its certificate: ignored", dev.name, path)

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def devices(self) -> list[TrustedDevice]:
        return sorted(self._devices.values(), key=lambda d: d.name.lower())

    def get(self, dev_id: str) -> TrustedDevice | None:
        return self._devices.get(dev_id)

    def find(self, text: str) -> TrustedDevice | None:
        """A paired device by exact name or ID prefix."""
        named = [d for d in self._devices.values() if d.name == text]
        if len(named) == 1:
            return named[0]
        prefixed = [d for d in self._devices.values() if matches(d.device_id, text)]
        return prefixed[0] if len(prefixed) == 1 else None

    def add(self, name: str, cert_pem: str, address: str = "") -> TrustedDevice:
        der = cert_der_from_pem(cert_pem)
        dev = TrustedDevice(device_id(der), name, cert_pem, time.time(), time.time(), address)
        self._devices[dev.device_id] = dev
        self._save()
        return dev

    def forget(self, dev_id: str) -> bool:
        if self._devices.pop(dev_id, None) is None:
            return False
        self._save()
        return True

    def seen(self, dev_id: str, address: str | None = None, name: str | None = None) -> None:
        dev = self._devices.get(dev_id)
        if dev is None:
            return
        self._devices[dev_id] = replace(
            dev, last_seen=time.time(), address=address or dev.address, name=name or dev.name
        )
        self._save(notify=False)

    def _save(self, notify: bool = True) -> None:
        json_state.write(self.path, _TrustFile(list(self._devices.values())))
        if notify:
            for listener in list(self._listeners):
                listener()
