"""The jobs behind the command line, one module per command (``jobs/<command>.py``).

Each command's module declares its options (``add_arguments(parser)``), says what it does in
one line (``HELP``) and runs it from the parsed options (``run(args)``); :mod:`overlapdyn.cli`
assembles the parser from them.
"""
