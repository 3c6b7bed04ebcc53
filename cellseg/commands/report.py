"""``cellseg report``: one offline HTML file about a model: training, scores, overlays."""

import argparse
import html
import sys
from dataclasses import dataclass, field

from cellseg.commands.arguments import add_model_argument, add_outline_arguments, scale_or_auto
from cellseg.neural_network.evaluation import Scores

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
        "evaluation folder (its cells found as cellseg evaluate finds them, at --scale, "
        "auto by default), its worst images, and how far the cells' confidence is off "
        "there. An image that cannot be scored is one error line naming it, left out (exit "
        "code 1).",
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
    parser.add_argument(
        "--scale",
        type=scale_or_auto,
        default="auto",
        metavar="FACTOR",
        help="enlargement of the evaluation images before the network, as in cellseg "
        "evaluate (default auto)",
    )
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
    from cellseg.atomic_write import write_text_atomically
    from cellseg.batch import counted
    from cellseg.commands.arguments import outline_style
    from cellseg.commands.scaling import file_scales
    from cellseg.metrics import SCORE_NAMES
    from cellseg.neural_network.dataset import TrainingPair, annotated_pairs
    from cellseg.neural_network.evaluation import own_images_warning, score_table
    from cellseg.neural_network.model import TrainedModel
    from cellseg.output_guard import check_output_file, output_file

    model = TrainedModel.load(arguments.model, models_root=arguments.models_dir)
    output = output_file(arguments.output, f"report_{model.name}.html")
    evaluated = [arguments.images, arguments.annotations] if arguments.images else []
    check_output_file(output, [model.folder.path, *evaluated])
    config, history = model.config, model.folder.read_history()
    style = outline_style(arguments)

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
    kept = [
        TrainingPair(
            Path(data["images"]) / entry["image"], Path(data["annotations"]) / entry["annotation"]
        )
        for entry in held[:SHOWN_IMAGES]
    ]
    kept = [pair for pair in kept if pair.image.is_file() and pair.annotation.is_file()]
    failed = 0
    if held:
        # At scale 1, as the validation scores above were measured (`evaluate_images`).
        shown = show_pairs(model, kept, style, scale=1) if kept else Shown()
        failed += len(shown.left_out)
        sections.append(
            (
                "Validation images",
                (LEGEND + "".join(shown.figures) if shown.figures else "") + left_out(shown)
                or "<p>The validation images are no longer in "
                + html.escape(str(data.get("images")))
                + ".</p>",
            )
        )
    if arguments.images:
        pairs = annotated_pairs(arguments.images, arguments.annotations)
        flattering = own_images_warning(model, pairs)
        if flattering:
            print(f"cellseg report: warning: {flattering}", file=sys.stderr)
        scale_of, _ = file_scales(model, arguments.scale)  # as evaluate and predict choose
        shown = show_pairs(model, pairs, style, scale=scale_of)
        failed += len(shown.left_out)
        if not shown.rows:
            return 1  # each image's error is above
        # Worst first; an image without cells either way (its AJI undefined) last.
        order = sorted(
            range(len(shown.rows)),
            key=lambda index: (shown.rows[index]["aji"] is None, shown.rows[index]["aji"] or 0),
        )
        rows = [shown.rows[index] for index in order]
        worst = [shown.figures[index] for index in order[:SHOWN_IMAGES]]
        sections.append(
            (
                "Evaluation",
                f"<p>{counted(len(rows), 'image')} of {html.escape(arguments.images)}, worst "
                f"AJI first, their cells found at --scale {arguments.scale} as cellseg "
                "evaluate finds them.</p>"
                + (f'<p class="warning">{html.escape(flattering)}.</p>' if flattering else "")
                + report.table(score_table(rows), ("image", *SCORE_NAMES, "scale"))
                + left_out(shown),
            )
        )
        sections.append(("Worst evaluation images", LEGEND + "".join(worst)))
        chart = report.reliability_chart(*shown.reliability(), cells=shown.cells)
        sections.append(("Confidence", chart))
    sections.append(("Configuration", report.settings_block(config)))
    title = f"cellseg model {model.name} ({config.target}, {config.status})"
    page = report.page(title, sections)
    written = write_text_atomically(output, page, overwrite=arguments.overwrite)
    sections_said = ", ".join(heading for heading, _ in sections)
    print(
        f"cellseg report: model {model.name} ({sections_said}"
        + (f"; {counted(failed, 'image')} left out, not scored" if failed else "")
        + ") "
        + ("written to" if written else "the same as in")
        + f" {output}"
    )
    return 1 if failed else 0


@dataclass
class Shown(Scores):
    """What `show_pairs` made of (image, annotation) pairs: their `Scores`, each scored
    image's figure (the overlay, captioned) in the pairs' order, and the name and error of
    each pair left out."""

    figures: list = field(default_factory=list)
    left_out: list = field(default_factory=list)


def show_pairs(model, pairs, style, *, scale) -> Shown:
    """Find, score and draw the cells of each (image, annotation) pair at ``scale`` as
    ``cellseg evaluate`` does (`cellseg.neural_network.evaluation.score_pair`). A pair
    that cannot be scored (an unreadable file, an annotation of another size than its
    image) is one error line naming it and is left out (`cellseg.batch.run_each`)."""
    from cellseg import report
    from cellseg.batch import counted, run_each
    from cellseg.errors import CellsegError
    from cellseg.image_io import read_picture
    from cellseg.neural_network.evaluation import score_pair

    shown = Shown()

    def show(pair):
        try:
            scored = score_pair(model, pair, style, scale=scale)
            image = read_picture(pair.image)
        except CellsegError as error:
            shown.left_out.append((pair.image.name, error))
            raise  # for run_each to say
        shown.add(scored)
        scores, found = scored.row, scored.found
        aji = "-" if scores["aji"] is None else f"{scores['aji']:.3f}"  # no cells either way
        text = (
            f"{pair.image.name}: AJI {aji}, "
            f"{counted(int(scores['predicted_count']), 'cell')} found of "
            f"{int(scores['true_count'])}"
            + (f", at scale {scores['scale']:g}" if scores["scale"] != 1 else "")
        )
        picture = report.picture(report.overlay(image, found, scored.truth), alt=text)
        shown.figures.append(
            f"<figure>{picture}<figcaption>{html.escape(text)}</figcaption></figure>"
        )

    run_each(pairs, show, command="report")
    return shown


def left_out(shown: Shown) -> str:
    """The images ``shown`` left out, each with its error, as HTML; empty when none was."""
    from cellseg.batch import counted, one_line

    if not shown.left_out:
        return ""
    items = "".join(
        f"<li>{html.escape(name)}: {html.escape(one_line(error))}</li>"
        for name, error in shown.left_out
    )
    they = "it" if len(shown.left_out) == 1 else "they"
    return (
        f"<p>{counted(len(shown.left_out), 'image')} left out, as {they} could not be "
        f"scored:</p><ul>{items}</ul>"
    )


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
