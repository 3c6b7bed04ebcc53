"""``cellseg predict``: find, outline, measure and count the cells of images with a model."""

import argparse

from cellseg.batch import counted, image_stem, named
from cellseg.commands.arguments import (
    add_model_argument,
    add_overlay_arguments,
    add_positivity_argument,
    confidence_level,
    pixel_size,
    scale_or_auto,
    shard,
)
from cellseg.image_io import SLIDE_FORMATS
from cellseg.output_formats import FORMATS

#: The inputs predict reads, for its help: one list, `cellseg.image_io.SLIDE_FORMATS`.
INPUTS = "image files or folders: PNG, JPEG and TIFF images (BigTIFF, OME-TIFF and the " + (
    "scanners' TIFFs too), and whole slides: "
    + ", ".join(f"{name} {' '.join(suffixes)}" for name, suffixes in SLIDE_FORMATS.items())
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellseg predict",
        description="Find the cells of images with a trained model. For each image <stem>: "
        "<stem>_labels.png (16-bit, one id per cell), <stem>_outlines.png (red outlines on a "
        "transparent layer, the annotation format: correct it and train again), "
        "<stem>_overlay.png (outlines over the image) and <stem>_cells.csv; for all images "
        "counts.csv (one row per image: count, mean area, the scale used) and cells.csv (one "
        "row per cell: position, area, perimeter, eccentricity, mean haematoxylin and DAB "
        "optical density). Whole slides are read region by region, only where they hold "
        "tissue (<stem>_tissue.png shows where), with their pixel size setting the scale. "
        "Running the same command again skips the images already done, and goes on with a "
        "slide where it stopped.",
    )
    add_model_argument(parser)
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help=INPUTS)
    parser.add_argument("--output", required=True, metavar="DIR", help="folder for the results")
    parser.add_argument(
        "--format",
        nargs="+",
        choices=tuple(FORMATS),
        default=["png"],
        help="; ".join(f"{name}: {output.help}" for name, output in FORMATS.items()),
    )
    parser.add_argument(
        "--shard",
        type=shard,
        metavar="K/N",
        help="process only the K-th of N equal shares of the images (for cluster job "
        "arrays: scripts/predict_slurm.sh)",
    )
    parser.add_argument(
        "--scale",
        type=scale_or_auto,
        default="auto",
        metavar="FACTOR",
        help="enlarge (or shrink) the images by FACTOR before the network, so that their "
        "cells take the size the model was trained on: 2 for 20x images with a model "
        "trained at 40x such as the default; results keep the images' own size. 'auto' "
        "(the default): from the image's pixel size when its file records it (or "
        "--pixel-size), else 1, 2 or 4, whichever the network is surest of on the image's "
        "centre; 1 turns it off",
    )
    parser.add_argument(
        "--pixel-size",
        type=pixel_size,
        metavar="UM",
        help="micrometres per pixel of the images (their files' own record otherwise): "
        "adds areas in um2 and perimeters in um, and sets --scale auto's enlargement",
    )
    parser.add_argument(
        "--min-confidence",
        type=confidence_level,
        metavar="P",
        help="leave out cells less likely than P (0-1) to be real nuclei (the model's own, "
        "tuned on its validation images, by default)",
    )
    parser.add_argument(
        "--tissue-only",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="send through the network only the regions of a slide that hold tissue, found "
        "on a low-resolution picture of it and saved as <stem>_tissue.png (the default; "
        "--no-tissue-only or --all-regions: every region)",
    )
    parser.add_argument(
        "--all-regions", dest="tissue_only", action="store_false", help=argparse.SUPPRESS
    )
    add_positivity_argument(parser)
    add_overlay_arguments(parser)
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="predict images again even when their results are there, replacing results "
        "made with another model or settings (by default a re-run skips the images done "
        "with these, so an interrupted run resumes, and refuses those done otherwise)",
    )
    return parser


#: What an interrupted prediction should do next (the command line prints it on Ctrl-C).
INTERRUPTED = (
    "run the same command again: the images already finished, and a slide's regions, are kept"
)
#: What predict says on a first Ctrl-C, which it takes once the image or region is saved.
STOPPING = "cellseg predict: stopping after this image or slide region"


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)

    from cellseg.tensorflow_import import import_tensorflow

    import_tensorflow()

    import time
    from dataclasses import replace

    from tqdm import tqdm

    from cellseg.batch import file_fingerprint, image_files, name_clashes, run_each
    from cellseg.commands.arguments import overlay_style
    from cellseg.commands.scaling import chosen_scale, notes, pixel_scale
    from cellseg.errors import CellsegError
    from cellseg.image_metadata import plausible_pixel_size, recorded_pixel_size
    from cellseg.interruption import deferred
    from cellseg.neural_network.model import SlideCells, TrainedModel
    from cellseg.output_guard import prepare_output_folder
    from cellseg.prediction_files import PredictionFiles
    from cellseg.preprocessing.colour import is_brightfield
    from cellseg.tables import text_table

    model = TrainedModel.load(arguments.model, models_root=arguments.models_dir)
    own = model.thresholds.min_confidence  # the model's count error was measured there
    interval = arguments.min_confidence in (None, own)
    if arguments.min_confidence is not None:
        model = model.with_config(
            thresholds=replace(model.thresholds, min_confidence=arguments.min_confidence)
        )
    if arguments.scale == "auto" and arguments.pixel_size:  # one line, not one an image
        pixel_scale(model, arguments.pixel_size, f"--pixel-size {arguments.pixel_size:g}")
    listed = image_files(arguments.inputs, slides=True, same_names=True)
    clashes = name_clashes(listed)  # refused one by one, the others predicted
    shard = (
        slice(None)
        if arguments.shard is None
        else slice(arguments.shard[0] - 1, None, arguments.shard[1])
    )
    files = [path for path in listed if path not in clashes]
    mine = [path for path in listed[shard] if path not in clashes]
    output = prepare_output_folder(arguments.output, [*arguments.inputs, model.folder.path])
    results = PredictionFiles(
        output,
        positive_threshold=arguments.positive_threshold,
        overwrite=arguments.overwrite,
        formats=arguments.format,
        settings={
            **model.identity(),
            "scale": arguments.scale,
            "min_confidence": model.thresholds.min_confidence,
            # Only when off, so that the results of earlier versions still count as done.
            **({} if arguments.tissue_only else {"tissue_only": False}),
        },
        overlay=overlay_style(arguments),
        pixel_size=arguments.pixel_size,
        count_spread=model.config.count_spread,
        interval=interval,
        sources={path.name: file_fingerprint(path) for path in mine},
    )
    todo = [path for path in mine if not results.finished(path.name)]
    if arguments.shard is not None and not listed[shard]:  # a job array of more tasks
        share, shares = arguments.shard
        print(
            f"cellseg predict: share {share} of {shares} holds no image "
            f"({counted(len(listed), 'image')} in all); nothing to do"
        )
    if len(todo) < len(mine):
        done = counted(len(mine) - len(todo), "image")
        print(
            f"cellseg predict: {done} already predicted in {output} with this model and these "
            "settings, skipped (--overwrite predicts them again)"
        )
    resized, strengthened, ignored, overridden, dark = {}, {}, {}, {}, []
    # A model that learned brightfield images finds few cells or none on dark ones.
    learned_brightfield = model.config.haematoxylin is not None

    def predict_one(path):
        recorded = recorded_pixel_size(path)
        its_own = plausible_pixel_size(recorded)
        pixel_size = arguments.pixel_size or its_own
        if arguments.pixel_size and its_own and abs(its_own / arguments.pixel_size - 1) > 0.01:
            overridden[path.name] = its_own
        scale, why = chosen_scale(model, path, arguments.scale, pixel_size)
        start = time.monotonic()
        found = model.segment_file(path, scale=scale, tissue_only=arguments.tissue_only)
        progress = None
        if isinstance(found, SlideCells):
            tqdm.write(slide_line(path, found, pixel_size, why, arguments.tissue_only))
            progress = SlideProgress(path.name, start)
        elif learned_brightfield and not is_brightfield(found.image):
            dark.append(path.name)
        if arguments.scale == "auto" and found.scale != 1:
            resized[path.name] = (found.scale, why)
        if found.counterstain != 1:
            strengthened[path.name] = found.counterstain
        if recorded is not None and pixel_size is None:  # only of images that were read
            ignored[path.name] = recorded
        try:
            results.add(path.name, found, pixel_size=pixel_size, progress=progress)
        finally:
            if progress is not None:
                progress.close()

    failed = {path.name for path in clashes}
    todo += [path for path in listed[shard] if path in clashes]  # each refused in a line

    def predict_or_note(path):
        try:
            predict_one(path)
        except CellsegError:
            failed.add(path.name)
            raise

    # Ctrl-C stops between images and slide regions: in the middle of one, TensorFlow may
    # lose it.
    try:
        with deferred(STOPPING):
            code = (
                run_each(todo, predict_or_note, command="predict", refused=clashes) if todo else 0
            )
    finally:  # the finished images are counted, however the others ended
        counts = results.finish([path.name for path in files])
    mine_names = {path.name for path in mine}
    shown = [row for row in counts if row["image"] in mine_names]
    if shown:
        print(text_table(shown, results.count_columns))
    for line in notes(resized, strengthened, ignored, overridden, arguments.pixel_size):
        print(f"cellseg predict: {line}")
    if dark:
        print(
            "cellseg predict: images of a dark background (fluorescence?), unlike the "
            f"brightfield stains {model.name} learned, where it finds few cells or none and "
            f"their counts are not to be trusted: {named(sorted(dark))}; fine-tune it on a "
            "few of yours (the README's 'Teach it your slides')"
        )
    if shown and not interval and own is not None:
        print(
            "cellseg predict: count_low and count_high left blank: the count's interval "
            f"holds at the model's own minimum confidence, {own:g}, where its count error "
            f"was measured, not at --min-confidence {arguments.min_confidence:g}"
        )
    if results.left_out:
        print(
            f"cellseg predict: counts.csv and cells.csv leave out "
            f"{counted(len(results.left_out), 'image')} predicted in {output} with another "
            f"model or settings, whose own files are kept: {named(results.left_out)}"
        )
    # Neither counted nor failed: another process sharing the folder took it over midway.
    unfinished = sorted(mine_names - {row["image"] for row in shown} - failed)
    if unfinished:
        print(
            f"cellseg predict: {counted(len(unfinished), 'image')} not counted, its results "
            f"unfinished in {output} (another process predicting into it?): {named(unfinished)}"
        )
    if shown:
        total = sum(row["count"] for row in shown)
        print(
            f"cellseg predict: {counted(total, 'cell')} in {counted(len(shown), 'image')}; "
            f"results in {output}"
        )
    return code


def slide_line(path, slide, pixel_size, why: str, tissue_only: bool = True) -> str:
    """What predict says of a slide before finding its cells: its size, the scale and
    why, and how much of it goes through the network (all of it without ``tissue_only``,
    or when its tissue cannot be told from glass by colour)."""
    rows, columns = slide.shape
    size = f"{columns} x {rows} pixels" + (f" of {pixel_size:g} um" if pixel_size else "")
    line = f"cellseg predict: {path.name}: {size}, scale {slide.scale:g} ({why}); "
    if slide.tissue is None:
        because = (
            "a grey or dark-background slide, whose tissue is not told from glass by colour"
            if tissue_only
            else "--all-regions"
        )
        return line + f"all {counted(slide.region_count, 'region')} ({because})"
    from cellseg.neural_network.whole_slide import region_count

    return line + (
        f"tissue in {slide.region_count} of {region_count(slide.shape, slide.scale)} regions "
        f"({slide.tissue.fraction:.0%} of the slide, shown in {image_stem(path)}_tissue.png)"
    )


class SlideProgress:
    """A slide's progress: regions done of all, cells so far and the time left, as a bar
    on a terminal, else a line every `cellseg.batch.LOG_EVERY` seconds (a cluster job's
    log); one line at the end."""

    def __init__(self, name: str, start: float):
        self.name, self.start, self.bar = name, start, None

    def __call__(self, done: int, total: int, cells: int) -> None:
        import time

        from tqdm import tqdm

        from cellseg.batch import LOG_EVERY

        if self.bar is None:  # regions found before a kill are done already
            shown = {"desc": self.name, "unit": "region", "leave": False, "disable": None}
            self.bar = tqdm(total=total, initial=done, **shown)
            self.resumed, self.last = done, time.monotonic()
        self.bar.update(done - self.bar.n)
        self.bar.set_postfix(cells=cells, refresh=False)
        self.done, self.total, self.cells = done, total, cells
        if self.bar.disable and time.monotonic() - self.last >= LOG_EVERY:
            self.last = time.monotonic()
            rate = (done - self.resumed) / (self.last - self.start)
            left = ""
            if rate:
                minutes = (total - done) / rate / 60
                left = (
                    ", under a minute left" if minutes < 0.5 else f", about {minutes:.0f} min left"
                )
            print(f"cellseg predict: {self.name}: {done} of {total} regions, {cells} cells{left}")

    def close(self) -> None:
        import time

        if self.bar is None:
            return
        self.bar.close()
        if self.done == self.total:
            done = counted(self.resumed, "region")
            again = f", {done} found before it was stopped" if self.resumed else ""
            print(
                f"cellseg predict: {self.name}: {counted(self.cells, 'cell')} in "
                f"{counted(self.total, 'region')}"
                f"{again}, {time.monotonic() - self.start:.0f} s"
            )
