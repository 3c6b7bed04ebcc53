"""``cellseg export``: a self-contained web page that runs a model in the browser."""

import argparse

from cellseg.commands.arguments import add_model_argument, optical_density
from cellseg.output_guard import check_not_an_input
from cellseg.postprocessing.positivity import DEFAULT_POSITIVE_THRESHOLD


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellseg export",
        description="Write a static web site that finds and counts cells in the browser, with "
        "no server-side computation and no request to any other site: index.html, its "
        "scripts, the model converted to ONNX and ONNX Runtime Web (WebAssembly). Open it "
        "with 'cellseg serve DIR' (fastest) or any static file server.",
    )
    add_model_argument(parser)
    parser.add_argument("--output", required=True, metavar="DIR", help="folder to create")
    parser.add_argument(
        "--positive-threshold",
        type=optical_density,
        default=DEFAULT_POSITIVE_THRESHOLD,
        metavar="OD",
        help="the page's DAB-positive threshold, mean optical density, used when its stain "
        f"is set to haematoxylin + DAB ({DEFAULT_POSITIVE_THRESHOLD})",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the files of a site exported there before (other files are kept; a "
        "folder that holds no exported site is never replaced)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)

    from cellseg.tensorflow_import import import_tensorflow

    import_tensorflow()

    import shutil
    from pathlib import Path

    from cellseg.errors import CellsegError
    from cellseg.neural_network.model import TrainedModel
    from cellseg.neural_network.onnx_export import export_onnx, largest_difference
    from cellseg.web_site import (
        build_site,
        check_site_destination,
        install_site,
        model_settings,
        remove_abandoned_staging,
        site_is_current,
        staging_folder,
    )

    output = Path(arguments.output)
    check_site_destination(output, overwrite=True)  # a dangerous or foreign folder: never
    remove_abandoned_staging(output.parent)
    model = TrainedModel.load(arguments.model, models_root=arguments.models_dir)
    check_not_an_input(output, [model.folder.path])
    settings = model_settings(model, arguments.positive_threshold)
    if not arguments.overwrite and site_is_current(output, settings):
        print(
            f"cellseg export: {output} already holds the site of model {model.name} with "
            f"these settings, unchanged. View it with: cellseg serve {output}"
        )
        return 0
    check_site_destination(output, overwrite=arguments.overwrite)
    # Build beside the destination, then move it into place: never half a site.
    staging = staging_folder(output)
    try:
        export_onnx(model.network, staging / "model.onnx")
        difference = largest_difference(model.network, staging / "model.onnx")
        if difference > 1e-3:
            raise CellsegError(
                f"{model.folder.path}: the ONNX model differs from the Keras one by "
                f"{difference:.2g}"
            )
        site = staging / "site"
        build_site(site, staging / "model.onnx", settings)
        install_site(site, output, overwrite=arguments.overwrite)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    checked = "" if difference != difference else f"; ONNX matches Keras within {difference:.1g}"
    print(
        f"cellseg export: site written to {output}{checked}. View it with: cellseg serve {output}"
    )
    return 0
