from hearth.cli.main import entry

entry()
