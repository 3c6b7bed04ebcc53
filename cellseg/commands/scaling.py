"""How a command chooses the scale each image is found at (from ``--scale``, or from the
pixel size its file records against the model's), and the lines that say what it did to
images: resized, their counterstain strengthened, their pixel size ignored or overridden."""

from pathlib import Path

from cellseg.batch import named


def chosen_scale(model, path, scale, pixel_size: float | None) -> tuple[float | str, str]:
    """The scale to find the cells of the image ``path`` at, and why: ``scale`` when it is
    a number (``--scale``); for ``"auto"``, the one that brings pixels of ``pixel_size``
    micrometres to the model's when both are known (`pixel_scale`), else ``"auto"``, which
    the network chooses from the cells it is surest of."""
    if scale != "auto":
        return scale, "--scale"
    from_pixels = pixel_scale(model, pixel_size, path)
    if from_pixels:
        return from_pixels, f"{pixel_size:g} um pixels, the model's {model.config.pixel_size:g}"
    return "auto", "the cells the network is surest of"


def file_scales(model, scale):
    """``scale`` (a number or ``"auto"``) for each image as predict chooses it from the
    pixel size its file records (`chosen_scale`), for commands without ``--pixel-size``:
    a function of an image's path, and the reasons it gives, by image name."""
    from cellseg.image_metadata import plausible_pixel_size, recorded_pixel_size

    reasons: dict[str, str] = {}

    def scale_of(path):
        pixel_size = plausible_pixel_size(recorded_pixel_size(path))
        chosen, reasons[Path(path).name] = chosen_scale(model, path, scale, pixel_size)
        return chosen

    return scale_of, reasons


def pixel_scale(model, pixel_size: float | None, source) -> float | None:
    """The scale that brings pixels of ``pixel_size`` micrometres to the model's (None when
    either is unknown); beyond the scales ``--scale`` takes, an error naming ``source`` (the
    image, or ``--pixel-size``): a typed 50 for 0.50 would enlarge an image 200x."""
    from cellseg.commands.arguments import SCALE_RANGE
    from cellseg.errors import CellsegError

    scale, (low, high) = model.scale_for_pixel_size(pixel_size), SCALE_RANGE
    if scale and not low <= scale <= high:
        raise CellsegError(
            f"{source}: pixels of {pixel_size:g} um would be scaled {scale:g}x to the model's "
            f"{model.config.pixel_size:g} um, beyond the {low:g}x to {high:g}x cellseg takes; "
            "--scale sets the scale yourself"
        )
    return scale


def notes(
    resized: dict, strengthened: dict, ignored: dict, overridden=None, pixel_size=None
) -> list[str]:
    """What predict did to some images that a user should know, a line each: the images
    ``resized`` by ``--scale auto`` (name: (factor, why)), those whose counterstain was
    ``strengthened`` (name: factor), those whose recorded pixel size was ``ignored``
    (name: micrometres) and those whose recorded pixel size ``--pixel-size`` (``pixel_size``)
    ``overridden`` (name: micrometres). Images resized alike share one group; each group
    names its first three images (counts.csv has a row for every one).

    Examples
    --------
    >>> surest = "the cells the network is surest of"
    >>> resized = {name: (2.0, surest) for name in "abcd"} | {"e": (0.5, "0.125 um pixels")}
    >>> for line in notes(resized, {"a": 2.48}, {}):
    ...     print(line)
    images of smaller cells than the model's, enlarged before the network (--scale auto): 2x from the cells the network is surest of (a, b, c and 1 more); --scale sets it yourself
    images of larger cells than the model's, shrunk before the network (--scale auto): 0.5x from 0.125 um pixels (e); --scale sets it yourself
    haematoxylin paler than the model's training images, without eosin, strengthened before the network (outputs show the image as it is): a x2.48
    """  # noqa: E501
    lines = []
    for smaller, cells, how in ((True, "smaller", "enlarged"), (False, "larger", "shrunk")):
        groups: dict[tuple[float, str], list[str]] = {}
        for name, (factor, why) in resized.items():
            if (factor > 1) == smaller:
                groups.setdefault((factor, why), []).append(name)
        if groups:
            listed = "; ".join(
                f"{factor:g}x from {why} ({named(names)})"
                for (factor, why), names in groups.items()
            )
            lines.append(
                f"images of {cells} cells than the model's, {how} before the network "
                f"(--scale auto): {listed}; --scale sets it yourself"
            )
    if strengthened:
        listed = named([f"{name} x{factor:g}" for name, factor in strengthened.items()])
        lines.append(
            "haematoxylin paler than the model's training images, without eosin, strengthened "
            f"before the network (outputs show the image as it is): {listed}"
        )
    if ignored:
        from cellseg.image_metadata import PLAUSIBLE_PIXEL_SIZES

        low, high = PLAUSIBLE_PIXEL_SIZES
        listed = named([f"{name} {size:.3g} um" for name, size in ignored.items()])
        lines.append(
            f"pixel sizes outside {low:g}-{high:g} um, no microscope's, ignored (72 dots per "
            f"inch, 353 um, is many programs' default): {listed}; --pixel-size UM gives the "
            "real one"
        )
    if overridden:
        listed = named([f"{name} {size:g} um" for name, size in overridden.items()])
        lines.append(
            f"--pixel-size {pixel_size:g} um used instead of the pixel sizes the files "
            f"record: {listed}"
        )
    return lines
