"""Example user files of cellseg train; `cellseg examples DIR` writes them out to copy."""
