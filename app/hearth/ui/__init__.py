"""The window: PySide6 widgets over the services facade (``hearth.services``); no networking here."""
