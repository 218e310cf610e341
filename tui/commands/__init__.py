"""One module per ``rbconsole`` sub-command, each with ``main(args) -> int``."""
