"""``cellseg train``: train a network on annotated images into trained_models/NAME/."""

import argparse

from cellseg.commands.arguments import add_models_dir_argument, add_outline_arguments
from cellseg.neural_network.targets import DEFAULT_TARGET, TARGETS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellseg train",
        description="Train a network to find cells, from images and their annotations (red "
        "outlines on a transparent layer, or 16-bit label images) matched by file name. The "
        "model goes to NAME/ in the models folder (--models-dir). Running the same command "
        "again after an interruption resumes at the last finished epoch. With --from MODEL, "
        "fine-tune a trained model on a few annotated images of your own (the README's "
        "'Teach it your slides').",
        epilog="Your own files are Python files loaded by path. Loss: custom_loss(y_true, "
        "y_pred) and optionally custom_metric(y_true, y_pred), with keras.ops. Architecture: "
        "get_model(input_shape) returning a keras.Model. Hyperparameters: "
        f"{_hyperparameter_names()} (the README's table of hyperparameters says what each "
        "does, and its default). Examples: 'cellseg examples DIR' writes them.",
    )
    parser.add_argument("--images", required=True, metavar="DIR", help="folder of images")
    parser.add_argument(
        "--annotations",
        required=True,
        metavar="DIR",
        help="folder of annotations with the images' file names",
    )
    parser.add_argument("--name", required=True, help="name of the model to create")
    parser.add_argument(
        "--from",
        dest="parent",
        metavar="MODEL",
        help="fine-tune this model ('default', a model's name in the models folder, or a "
        "model folder): start from its network, target and normalisation, with the "
        "fine-tuning hyperparameters (a short schedule at a lower learning rate, its "
        "augmentation) for the names no --hyperparameters file sets; works from 1 image",
    )
    parser.add_argument("--loss", metavar="FILE", help="Python file defining custom_loss")
    parser.add_argument("--architecture", metavar="FILE", help="Python file defining get_model")
    parser.add_argument(
        "--hyperparameters", metavar="FILE", help="Python file of BATCH_SIZE, EPOCHS, ..."
    )
    parser.add_argument(
        "--target",
        choices=tuple(TARGETS),
        help="what the network learns, per pixel: "
        + "; ".join(f"{name}: {target.description}" for name, target in TARGETS.items())
        + f" ({DEFAULT_TARGET}; with --from, the model's own)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument(
        "--split-seed",
        type=int,
        metavar="SEED",
        help="seed that chooses the validation images (default: --seed); keep it while "
        "changing --seed to train the same recipe again on the same split",
    )
    parser.add_argument(
        "--restart",
        action="store_true",
        help="delete an existing model of this name and train from scratch",
    )
    parser.add_argument(
        "--distribute",
        action="store_true",
        help="train with tf.distribute: MirroredStrategy over this machine's GPUs, or "
        "MultiWorkerMirroredStrategy across machines when TF_CONFIG is set",
    )
    add_models_dir_argument(parser)
    add_outline_arguments(parser)
    return parser


def _hyperparameter_names() -> str:
    """``"BATCH_SIZE, EPOCHS, ..., and optionally TILE_SIZE, ..."``, from their definitions."""
    from cellseg.neural_network.hyperparameters import DEFINITIONS

    required = [definition.name for definition in DEFINITIONS if definition.required]
    optional = [definition.name for definition in DEFINITIONS if not definition.required]
    return f"{', '.join(required)}, and optionally {', '.join(optional)}"


#: What an interrupted training should do next (the command line prints it on Ctrl-C).
INTERRUPTED = "run the same command again to resume after the last finished epoch"


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    print("cellseg train: loading TensorFlow and checking your files...", flush=True)

    from cellseg.tensorflow_import import import_tensorflow

    import_tensorflow()

    from pathlib import Path

    from cellseg.commands.arguments import outline_style
    from cellseg.errors import CellsegError
    from cellseg.neural_network.model_folder import models_folder, shipped_names
    from cellseg.neural_network.training import TrainingRequest, train
    from cellseg.output_guard import check_not_an_input

    if not arguments.name or "/" in arguments.name or arguments.name.startswith("."):
        raise CellsegError(f"{arguments.name!r}: a model name must be a plain folder name")
    if arguments.name in shipped_names():
        raise CellsegError(
            f"{arguments.name!r}: the name of a model shipped with cellseg, which that name "
            "always means; choose another name"
        )
    models = models_folder(arguments.models_dir)
    check_not_an_input(models / arguments.name, [arguments.images, arguments.annotations])
    request = TrainingRequest(
        images=Path(arguments.images),
        annotations=Path(arguments.annotations),
        name=arguments.name,
        target=arguments.target,  # None: the --from model's, else the default
        loss_file=Path(arguments.loss) if arguments.loss else None,
        architecture_file=Path(arguments.architecture) if arguments.architecture else None,
        hyperparameters_file=Path(arguments.hyperparameters) if arguments.hyperparameters else None,
        seed=arguments.seed,
        split_seed=arguments.split_seed,
        restart=arguments.restart,
        distribute=arguments.distribute,
        outline_style=outline_style(arguments),
        models_root=models,
        parent=arguments.parent,
    )
    train(request)  # it says where the model is, trained or kept
    return 0
