"""The window: PySide6 widgets over the services facade (``hearth.service.app``); no networking here."""
