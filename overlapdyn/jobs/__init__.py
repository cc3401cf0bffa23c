"""The jobs behind the command line, one module per command.
"""

