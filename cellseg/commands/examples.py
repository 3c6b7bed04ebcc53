"""``cellseg examples``: write the example user files (loss, architecture, hyperparameters,
overnight runs) into a folder, to copy from."""

import argparse

from cellseg.commands.arguments import add_overwrite_argument


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellseg examples",
        description="Write the example files of cellseg train into OUTPUT_DIR: dice_loss.py "
        "(--loss), small_unet.py (--architecture), hyperparameters.py (--hyperparameters, "
        "every name, its default in its comment) and overnight_runs.txt "
        "(scripts/train_overnight.sh).",
    )
    parser.add_argument(
        "output", nargs="?", default="cellseg-examples", metavar="OUTPUT_DIR",
        help="folder to write them into (cellseg-examples)",
    )  # fmt: skip
    add_overwrite_argument(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)

    from importlib.resources import files
    from pathlib import Path

    from cellseg.atomic_write import write_bytes_atomically
    from cellseg.batch import Tally, counted

    output = Path(arguments.output)
    output.mkdir(parents=True, exist_ok=True)
    tally = Tally()
    examples = sorted(
        entry
        for entry in files("cellseg.examples").iterdir()
        if entry.name.endswith((".py", ".txt")) and not entry.name.startswith("_")
    )
    for entry in examples:
        data = entry.read_bytes()
        tally.file(write_bytes_atomically(output / entry.name, data, overwrite=arguments.overwrite))
    names = ", ".join(entry.name for entry in examples)
    print(
        f"cellseg examples: {counted(len(examples), 'example file')} in {output} ({names}; "
        f"{tally.files()}); e.g. cellseg train ... --hyperparameters "
        f"{output / 'hyperparameters.py'}"
    )
    return 0
