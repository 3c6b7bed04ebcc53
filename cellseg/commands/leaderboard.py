"""``cellseg leaderboard``: every model you trained, and the shipped ones, best first."""

import argparse

from cellseg.commands.arguments import add_models_dir_argument
from cellseg.neural_network.model_listing import SORT_KEYS

COLUMNS = (
    "rank",
    "name",
    "status",
    "target",
    "epochs",
    "val_images",
    "aji",
    "f1",
    "panoptic_quality",
    "dice",
    "count_error",
    "val_loss",
    "parent",
    "parent_aji",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellseg leaderboard",
        description="List your models (the models folder) and those shipped with cellseg "
        "(default), ranked by their validation scores (measured on held-out whole images at "
        "the end of training). Unfinished runs come last: 'interrupted, resumable' ones "
        "resume when their training command is run again; a line below the table says what "
        "stopped those 'stopped by an error'. A fine-tuned model (train "
        "--from) names the models it came from in 'parent', the first one first, and "
        "'parent_aji' is its parent's AJI, unchanged, on the same validation images. "
        "'val_images' is how many images the scores are of: models validated on other "
        "images do not compare; cellseg evaluate scores them on the same ones.",
    )
    add_models_dir_argument(parser)
    parser.add_argument("--sort", choices=SORT_KEYS, default="aji", help="score to rank by (aji)")
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)

    from cellseg.batch import counted
    from cellseg.neural_network.model_folder import models_folder
    from cellseg.neural_network.model_listing import list_models
    from cellseg.tables import text_table

    root = models_folder(arguments.models_dir)
    if arguments.models_dir and not root.is_dir():  # typed: a folder to list, not one to come
        from cellseg.errors import file_error

        raise file_error(root, "no such folder (--models-dir)")
    rows = list_models(root, sort=arguments.sort)
    print(text_table(rows, COLUMNS))
    for row in rows:  # below the table, not widening its status column for every row
        if "why" in row:
            print(f"cellseg leaderboard: {row['name']} {row['why']}")
    yours = sum(1 for row in rows if row["folder"].parent.resolve() == root.resolve())
    where = f"in {root}" if root.is_dir() else f"({root} does not exist yet)"
    print(
        f"cellseg leaderboard: {counted(yours, 'model')} of yours {where}, and "
        f"{counted(len(rows) - yours, 'model')} shipped with cellseg"
    )
    return 0
