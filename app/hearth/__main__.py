from hearth.cli import entry

entry()
