"""The `cellseg` command, one module per subcommand."""
