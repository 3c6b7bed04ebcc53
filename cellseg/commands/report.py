"""``cellseg report``: one offline HTML file about a model: training, scores, overlays."""

import argparse
import html

from cellseg.commands.arguments import add_model_argument, add_outline_arguments

#: Validation images shown, and worst evaluation images shown.
SHOWN_IMAGES = 4
#: What the outlines over the images mean.
LEGEND = (
    '<p class="legend"><span style="color:#d00">red</span>: the cells the model found; '
    '<span style="color:#0a0">green</span>: the cells drawn in the annotation.</p>'
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellseg report",
        description="Write a self-contained HTML report of a model (images embedded, no "
        "network needed to open it): training curves, validation scores, overlays of the "
        "validation images (found outlines in red, true ones in green) and the "
        "configuration. With --images and --annotations, also every image's scores on that "
        "evaluation folder and its worst images.",
    )
    add_model_argument(parser)
    parser.add_argument(
        "--output",
        required=True,
        metavar="HTML",
        help="report file to write, or a folder to write report_<model>.html in",
    )
    parser.add_argument("--images", metavar="DIR", help="evaluation images")
    parser.add_argument("--annotations", metavar="DIR", help="their annotations")
    add_outline_arguments(parser)
    parser.add_argument("--overwrite", action="store_true", help="replace an existing report")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if bool(arguments.images) != bool(arguments.annotations):
        parser.error("--images and --annotations go together")

    from cellseg.tensorflow_import import import_tensorflow

    import_tensorflow()

    from pathlib import Path

    from cellseg import report
    from cellseg.annotations import read_annotation_labels
    from cellseg.atomic_write import write_text_atomically
    from cellseg.commands.arguments import outline_style
    from cellseg.errors import CellsegError
    from cellseg.image_io import read_picture
    from cellseg.metrics import SCORE_NAMES, image_scores
    from cellseg.neural_network.dataset import annotated_pairs
    from cellseg.neural_network.evaluation import Scores, mean_scores
    from cellseg.neural_network.model import TrainedModel
    from cellseg.output_guard import check_output_file, output_file
    from cellseg.postprocessing.confidence import real_cells

    model = TrainedModel.load(arguments.model, models_root=arguments.models_dir)
    output = output_file(arguments.output, f"report_{model.name}.html")
    evaluated = [arguments.images, arguments.annotations] if arguments.images else []
    check_output_file(output, [model.folder.path, *evaluated])
    config, history = model.config, model.folder.read_history()
    style = outline_style(arguments)

    sure = Scores()  # each evaluation cell's confidence, and whether it is real

    def figure(image_path, annotation_path, caption):
        image = read_picture(image_path)
        truth = read_annotation_labels(annotation_path, style)
        result = model.segment_file(image_path)
        found = result.whole_labels()
        scores = image_scores(truth, found)
        if getattr(result, "confidence", None) is not None:
            sure.confidence.append(result.confidence)
            sure.real.append(real_cells(truth, found))
        text = (
            f"{caption}: AJI {scores['aji']:.3f}, {int(scores['predicted_count'])} cells "
            f"found of {int(scores['true_count'])}"
        )
        picture = report.picture(report.overlay(image, found, truth), alt=text)
        return scores, f"<figure>{picture}<figcaption>{html.escape(text)}</figcaption></figure>"

    sections = [("Training", report.curves(history) + _epochs(history, config))]
    validation = config.validation
    if validation:
        thresholds = config.thresholds.to_dict()
        sections.append(
            (
                "Validation scores",
                report.table([validation], [name for name in SCORE_NAMES if name in validation])
                + "<p>Post-processing thresholds tuned on these images: "
                + html.escape(", ".join(f"{k} {v}" for k, v in thresholds.items()))
                + ".</p>",
            )
        )
    if config.parent:
        sections.append(("Lineage", _lineage(model.name, config, SCORE_NAMES)))
    data = (config.training or {}).get("data", {})
    held = [entry for entry in data.get("files", []) if entry.get("split") == "validation"]
    figures = []
    for entry in held[:SHOWN_IMAGES]:
        image = Path(data["images"]) / entry["image"]
        annotation = Path(data["annotations"]) / entry["annotation"]
        if image.is_file() and annotation.is_file():
            figures.append(figure(image, annotation, entry["image"])[1])
    if held:
        sections.append(
            (
                "Validation images",
                (LEGEND + "".join(figures) if figures else "")
                or "<p>The validation images are no longer in "
                + html.escape(str(data.get("images")))
                + ".</p>",
            )
        )
    if arguments.images:
        pairs = annotated_pairs(arguments.images, arguments.annotations)
        rows, shown = [], []
        for pair in pairs:
            scores, html_figure = figure(pair.image, pair.annotation, pair.image.name)
            rows.append({"image": pair.image.name, **scores})
            shown.append((scores["aji"], html_figure))
        if not rows:
            raise CellsegError(f"{arguments.images}: no images to evaluate")
        rows.sort(key=lambda row: row["aji"])
        worst = [html_figure for _, html_figure in sorted(shown, key=lambda item: item[0])]
        sections.append(
            (
                "Evaluation",
                f"<p>{len(rows)} images of {html.escape(arguments.images)}, worst "
                "AJI first.</p>"
                + report.table(
                    rows + [{"image": "mean", **mean_scores(rows)}], ("image", *SCORE_NAMES)
                ),
            )
        )
        sections.append(("Worst evaluation images", LEGEND + "".join(worst[:SHOWN_IMAGES])))
        sections.append(("Confidence", report.reliability_chart(*sure.reliability())))
    sections.append(("Configuration", report.settings_block(config)))
    title = f"cellseg model {model.name} ({config.target}, {config.status})"
    page = report.page(title, sections)
    written = write_text_atomically(output, page, overwrite=arguments.overwrite)
    sections_said = ", ".join(heading for heading, _ in sections)
    print(
        f"cellseg report: model {model.name} ({sections_said}) "
        + ("written to" if written else "the same as in")
        + f" {output}"
    )
    return 0


def _lineage(name: str, config, score_names) -> str:
    """Which models this one was fine-tuned from, and its parent's scores beside its own
    on its validation images."""
    from cellseg import report
    from cellseg.neural_network.model_listing import lineage

    parent = config.parent
    text = (
        f"<p>Fine-tuned from {html.escape(lineage(config) or '?')} (first one first); the "
        f"network it started from has SHA-256 {html.escape(str(parent.get('sha256')))}.</p>"
    )
    before, after = parent.get("validation"), config.validation
    if not (before and after):
        return text + (
            "<p>No image was held out for validation (fewer than 3), so the parent was not "
            "scored beside it.</p>"
        )
    columns = ["model", *(score for score in score_names if score in after and score in before)]
    rows = [
        {"model": f"{parent.get('name')} (the parent, as it was)", **before},
        {"model": f"{name} (fine-tuned)", **after},
    ]
    return text + "<p>On the validation images:</p>" + report.table(rows, columns)


def _epochs(history: list[dict], config) -> str:
    if not history:
        return ""
    minutes = sum(row.get("seconds", 0) for row in history) / 60
    best = config.best_epoch
    return (
        f"<p>{len(history)} epochs in {minutes:.0f} minutes"
        + (f"; best validation loss at epoch {html.escape(str(best))}" if best else "")
        + ".</p>"
    )
