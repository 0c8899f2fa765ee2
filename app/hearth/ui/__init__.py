"""The window: PySide6 widgets over the services facade (``hearth.service.root``); no networking here."""
