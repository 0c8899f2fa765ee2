"""What the window's pages show and may do, without Qt: the pages are thin widgets over these.

Nothing here imports PySide6 (``tests/unit/test_views.py`` checks), so every state and every rule a
page follows is tested without a window. Words stay in the widgets: these give values and enums, and
the widget's ``tr()`` says them in the reader's language.
"""
