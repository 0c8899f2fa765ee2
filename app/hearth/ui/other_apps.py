"""Settings → Other apps: the OpenAI-compatible API that editors, scripts and chat front-ends use."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from hearth.core.fill import fill
from hearth.service.root import Hearth
from hearth.service.storage import SettingsError
from hearth.ui.plain import plain_label
from hearth.ui.tasks import describe, spawn


class OtherAppsBox(QGroupBox):
    def __init__(self, services: Hearth, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Other apps"))
        self.services = services
        self.enabled = QCheckBox(
            self.tr("Let apps on this device use the loaded model (OpenAI-compatible API)")
        )
        self.lan = QCheckBox(self.tr("Also let other devices on the network use it (they need the key)"))
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.origins = QLineEdit()
        self.origins.setPlaceholderText(self.tr("none (web pages may not call it)"))
        self.keep_history = QCheckBox(self.tr("Keep other apps' conversations in the chat history"))
        self.ollama = QCheckBox(self.tr("Also answer apps that speak only Ollama's API"))
        self.ollama_port = QSpinBox()
        self.ollama_port.setRange(1, 65535)
        self.ollama_port.setAccessibleName(self.tr("Ollama API port"))
        self.ollama.toggled.connect(self.ollama_port.setEnabled)
        self.load_on_request = QCheckBox(self.tr("Load another model of the library when an app asks for it"))
        self.pool_on_request = QCheckBox(self.tr("Also when that model needs other devices"))
        self.load_on_request.toggled.connect(self.pool_on_request.setEnabled)
        self.send_to_devices = QCheckBox(
            self.tr("Send apps' requests to a paired device when the model here is busy")
        )
        self.send_to_devices.setToolTip(
            self.tr(
                "Only to a paired device that offers the same model file; the request and its answer "
                "cross the paired devices' encrypted channel."
            )
        )
        self.ollama_address = plain_label()
        self.ollama_address.setObjectName("ollamaAddress")
        self.ollama_address.setWordWrap(True)
        self.address = plain_label()
        self.address.setObjectName("apiAddress")
        self.address.setWordWrap(True)
        self.key = QLineEdit()
        self.key.setReadOnly(True)
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setObjectName("apiKey")
        self.key.setAccessibleName(self.tr("Key"))
        show_key = QPushButton(self.tr("Show"))
        show_key.setCheckable(True)
        show_key.toggled.connect(
            lambda on: self.key.setEchoMode(QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password)
        )
        copy_key = QPushButton(self.tr("Copy key"))
        copy_key.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.key.text()))
        self.regenerate = QPushButton(self.tr("New key"))
        self.regenerate.clicked.connect(self._new_key)
        self.example = plain_label()  # quotes the served model's name
        self.example.setObjectName("apiExample")
        self.example.setWordWrap(True)
        copy_example = QPushButton(self.tr("Copy example"))
        copy_example.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.example.text()))
        self.apply_button = QPushButton(self.tr("Apply"))
        self.apply_button.clicked.connect(self.apply)
        self.status = plain_label()
        self.status.setWordWrap(True)

        key_row = QHBoxLayout()
        key_row.addWidget(self.key, 1)
        key_row.addWidget(show_key)
        key_row.addWidget(copy_key)
        key_row.addWidget(self.regenerate)
        form = QFormLayout(self)
        form.addRow(self.enabled)
        form.addRow(self.lan)
        form.addRow(self.tr("Port"), self.port)
        form.addRow(self.ollama)
        form.addRow(self.tr("Ollama API port"), self.ollama_port)
        form.addRow(self.tr("Web pages allowed (origins, comma-separated)"), self.origins)
        form.addRow(self.keep_history)
        form.addRow(self.load_on_request)
        form.addRow(self.pool_on_request)
        form.addRow(self.send_to_devices)
        form.addRow(self.apply_button)
        form.addRow(self.tr("Address"), self.address)
        form.addRow(self.tr("Ollama API"), self.ollama_address)
        form.addRow(self.tr("Key"), key_row)
        form.addRow(self.tr("Try it"), self.example)
        form.addRow(copy_example)
        form.addRow(self.status)
        self.show_settings()
        spawn(services.api.key(), self._error, self._show_key)

    def show_settings(self) -> None:
        s = self.services.api.settings
        self.enabled.setChecked(s.enabled)
        self.lan.setChecked(s.lan)
        self.port.setValue(s.port)
        self.origins.setText(", ".join(s.origins))
        self.keep_history.setChecked(s.keep_history)
        self.ollama.setChecked(s.ollama)
        self.ollama_port.setValue(s.ollama_port)
        self.ollama_port.setEnabled(s.ollama)
        self.load_on_request.setChecked(s.load_on_request)
        self.pool_on_request.setChecked(s.pool_on_request)
        self.pool_on_request.setEnabled(s.load_on_request)
        self.send_to_devices.setChecked(s.send_to_devices)
        self.show_status()

    def show_status(self) -> None:
        status, settings = self.services.api.status, self.services.api.settings
        if status.error:
            self.address.setText(fill(self.tr("Not listening: %1"), status.error))
        elif status.url:
            where = self.tr("%1 (this device only)") if not settings.needs_key else "%1"
            self.address.setText(fill(where, status.url))
        else:
            self.address.setText(self.tr("Off"))
        ollama = self.services.api.ollama_status
        if ollama.error:
            self.ollama_address.setText(fill(self.tr("Not listening: %1"), ollama.error))
        else:
            self.ollama_address.setText(ollama.url or self.tr("Off"))
        url = status.url or f"http://127.0.0.1:{settings.port}/v1"
        model = self.services.serving.served_name() or "MODEL"
        auth = ' -H "Authorization: Bearer $HEARTH_KEY"' if settings.needs_key else ""
        self.example.setText(
            f'curl {url}/chat/completions -H "Content-Type: application/json"{auth} '
            f'-d \'{{"model": "{model}", "messages": [{{"role": "user", "content": "Hello"}}]}}\''
        )

    def apply(self) -> None:
        origins = [o.strip() for o in self.origins.text().split(",") if o.strip()]
        try:
            self._apply(origins)
        except SettingsError as exc:
            self.status.setText(describe(exc))
            return
        self.status.setText(self.tr("Saved."))

    def _apply(self, origins: list[str]) -> None:
        self.services.api.set_settings(
            enabled=self.enabled.isChecked(),
            lan=self.lan.isChecked(),
            port=self.port.value(),
            origins=origins,
            keep_history=self.keep_history.isChecked(),
            ollama=self.ollama.isChecked(),
            ollama_port=self.ollama_port.value(),
            load_on_request=self.load_on_request.isChecked(),
            pool_on_request=self.pool_on_request.isChecked(),
            send_to_devices=self.send_to_devices.isChecked(),
        )

    def _new_key(self) -> None:
        spawn(self.services.api.regenerate_key(), self._error, self._show_key)

    def _show_key(self, key: str) -> None:
        self.key.setText(key)

    def _error(self, exc: BaseException) -> None:
        self.status.setText(describe(exc))
