"""``cellseg leaderboard``: every model in trained_models/, best validation scores first."""

import argparse

SORT_KEYS = ("aji", "f1", "panoptic_quality", "dice", "count_error")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellseg leaderboard",
        description="List the models of a folder ranked by their validation scores (measured "
        "on held-out whole images at the end of training). Unfinished runs come last.",
    )
    parser.add_argument(
        "--models-dir",
        default="trained_models",
        metavar="DIR",
        help="folder of the models (trained_models)",
    )
    parser.add_argument("--sort", choices=SORT_KEYS, default="aji", help="score to rank by (aji)")
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)

    from pathlib import Path

    from cellseg.errors import CellsegError
    from cellseg.neural_network.model_folder import ModelFolder
    from cellseg.tables import text_table

    root = Path(arguments.models_dir)
    if not root.is_dir():
        raise CellsegError(f"{root}: no such folder")
    entries = []
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or not (path / "config.json").is_file():
            continue
        folder = ModelFolder(path)
        try:
            config, history = folder.read_config(), folder.read_history()
        except CellsegError as error:
            entries.append({"name": path.name, "status": f"unreadable ({error})"})
            continue
        hyperparameters = (config.training or {}).get("hyperparameters", {})
        entries.append(
            {
                "name": path.name,
                "status": config.status,
                "target": config.target,
                "epochs": f"{len(history)}/{hyperparameters.get('epochs', '?')}",
                **(config.validation or {}),
                "val_loss": min(
                    (row["val_loss"] for row in history if "val_loss" in row), default=None
                ),
            }
        )
    if not entries:
        raise CellsegError(f"{root}: holds no models")
    lower_is_better = arguments.sort == "count_error"

    def rank(entry):
        value = entry.get(arguments.sort)
        finished = entry.get("status") == "finished" and value is not None
        return (not finished, value if lower_is_better else -(value or 0))

    entries.sort(key=rank)
    for index, entry in enumerate(entries, start=1):
        entry["rank"] = index
    columns = (
        "rank",
        "name",
        "status",
        "target",
        "epochs",
        "aji",
        "f1",
        "panoptic_quality",
        "dice",
        "count_error",
        "val_loss",
    )
    print(text_table(entries, columns))
    return 0
