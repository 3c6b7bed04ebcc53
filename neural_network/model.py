"""A trained model in code: load it once, then segment images and whole slides with it.

`TrainedModel.load` reads a model folder (``"default"``, a name in the models folder, or a
path): its network, its typed configuration (`ModelConfig`) and the thresholds tuned for
it. Every command and benchmark segments through it, so ``predict``, ``evaluate``,
``report``, ``demo`` and ``export`` find the same cells in the same image:

    model = TrainedModel.load("default")
    cells = model.segment(image)             # labels, and the scale it chose
    result = model.segment_file(path)        # whole image, or a slide region by region

`segment_file` makes the one decision of how an image is read and predicted: whole (up to
`REGION_MODE_PIXELS` at the scale used, tiled inside `network_output` when large), or
region by region from the file for larger images (`cellseg.neural_network.whole_slide`).
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from math import prod
from pathlib import Path

import numpy as np

from cellseg.neural_network.model_config import ModelConfig
from cellseg.neural_network.model_folder import ModelFolder, load_network, resolve_model
from cellseg.neural_network.prediction import (
    AUTO,
    AUTO_SCALE_CROP,
    AUTO_SCALES,
    ScaleTrial,
    central_crop,
    choose_scale,
    enlarged,
    network_output,
    rescaled,
)
from cellseg.neural_network.targets import get_target
from cellseg.postprocessing.confidence import cell_scores
from cellseg.postprocessing.instances import Thresholds
from cellseg.preprocessing.colour import as_rgb, counterstain_factor, with_counterstain

#: Images above this many pixels, at the scale they are predicted at, are read and
#: predicted region by region, never whole.
REGION_MODE_PIXELS = 25_000_000


@dataclass(frozen=True)
class Cells:
    """The cells of one image held whole: the image, its labels (0 background, 1..N), the
    scale it was enlarged by before the network, and each cell's confidence (the
    probability that it is a real nucleus, `cellseg.postprocessing.confidence`; index 0
    is cell 1), and how much its haematoxylin was strengthened before the network
    (`cellseg.preprocessing.colour.counterstain_factor`)."""

    image: np.ndarray
    labels: np.ndarray
    scale: float
    confidence: np.ndarray | None = None
    counterstain: float = 1.0

    def whole_labels(self) -> np.ndarray:
        """The labels (as `SlideCells.whole_labels`, for callers that take either)."""
        return self.labels


@dataclass
class SlideCells:
    """The cells of an image too large to hold (a whole slide), found region by region as
    `found` is iterated: its ``regions`` that go through the network (those holding
    ``tissue``, when it was looked for) at one ``scale``, their haematoxylin strengthened by
    one factor, ``counterstain`` (`cellseg.neural_network.whole_slide.plan_slide`)."""

    shape: tuple[int, int]
    scale: float
    regions: list
    source: object
    model: object = None
    tissue: object = None
    counterstain: float = 1.0

    @property
    def region_count(self) -> int:
        return len(self.regions)

    def found(self, *, skip=frozenset(), earlier=None) -> Iterator:
        """Each region's cells (`RegionCells`), lazily; those numbered in ``skip`` left out.
        ``earlier(index)``, the window and labels of a region found before (None for one
        not found), leaves out the cells it holds too (`without_earlier_cells`); without
        it, the regions found here are held in memory to compare (`once_each`)."""
        from cellseg.neural_network.whole_slide import once_each, region_cells

        found = region_cells(
            self.model,
            self.source,
            self.regions,
            scale=self.scale,
            skip=skip,
            counterstain=self.counterstain,
        )
        return once_each(found, self.shape, self.scale, earlier)

    def close(self) -> None:
        self.source.close()

    def whole_labels(self) -> np.ndarray:
        """All regions' labels in one array of the slide's size (for scoring; memory!)."""
        from cellseg.neural_network.whole_slide import whole_labels

        return whole_labels(self.shape, self.found())


class TrainedModel:
    """A trained network (or several averaged), its configuration and thresholds.

    Parameters
    ----------
    networks : keras.Model or sequence of keras.Model
        Networks that read RGB on the 0-255 scale; several are averaged (an ensemble).
    config : ModelConfig
    name : str
        What the model is called (its folder's name).
    folder : ModelFolder, optional
        Where it was loaded from.
    """

    def __init__(self, networks, config: ModelConfig, *, name: str = "", folder=None):
        self.networks = list(networks) if isinstance(networks, Sequence) else [networks]
        self.config = config
        self.name = name or config.name
        self.folder = folder
        self._digest = None

    @classmethod
    def load(cls, reference, *, models_root=None) -> "TrainedModel":
        """Load ``"default"``, a model's name in the models folder, or a model folder.

        Raises `CellsegError` naming the folder or file when it is missing or damaged, or
        when its training has not finished: its thresholds were never tuned, and its cells
        would be a network's first guesses.
        """
        from cellseg.errors import CellsegError
        from cellseg.neural_network.model_listing import training_status

        folder = resolve_model(reference, models_root=models_root)
        status = folder.read_config().status
        if status != "finished":
            raise CellsegError(
                f"{reference}: {folder.path} is a training run that has not finished "
                f"({training_status(folder, status)}), its thresholds not yet tuned; run its "
                "cellseg train command again to finish it"
            )
        return cls.from_folder(folder)

    @classmethod
    def from_folder(cls, folder: ModelFolder, *, network_path=None) -> "TrainedModel":
        """The model of ``folder``; ``network_path`` picks another of its networks."""
        return cls(
            load_network(folder, network_path),
            folder.read_config(),
            name=folder.name,
            folder=folder,
        )

    @property
    def network(self):
        """The (first) network."""
        return self.networks[0]

    @property
    def target(self) -> str:
        return self.config.target

    @property
    def thresholds(self) -> Thresholds:
        return self.config.thresholds

    def identity(self) -> dict:
        """What tells this model's results from another's: its name and the SHA-256 of
        the network file it predicts with (None for networks not loaded from a folder)."""
        if self._digest is None and self.folder is not None:
            from cellseg.neural_network.label_cache import file_digest

            self._digest = file_digest(self.folder.prediction_path())
        return {"model": self.name, "model_sha256": self._digest}

    def scale_for_pixel_size(self, pixel_size: float | None) -> float | None:
        """The enlargement that brings an image of ``pixel_size`` micrometres per pixel to
        the model's own (0.5 for a model of 0.25: 2); None when either is unknown.

        Examples
        --------
        >>> from cellseg.neural_network.model_config import ModelConfig
        >>> TrainedModel([], ModelConfig(pixel_size=0.25)).scale_for_pixel_size(0.5)
        2.0
        """
        if not pixel_size or not self.config.pixel_size:
            return None
        return round(pixel_size / self.config.pixel_size, 2)

    def with_config(self, **changes) -> "TrainedModel":
        """The same networks with some configuration changed (thresholds, flips...)."""
        return TrainedModel(
            self.networks, self.config.with_changes(**changes), name=self.name, folder=self.folder
        )

    def output(self, image: np.ndarray, *, flips: int | None = None) -> np.ndarray:
        """The networks' output for ``image``, averaged, of the image's rows and columns
        (`network_output` with the model's size divisor, target and test-time flips)."""
        flips = self.config.test_time_flips if flips is None else flips
        total = None
        for network in self.networks:
            output = network_output(
                network, image, divisor=self.config.divisor, flips=flips, target=self.target
            )
            total = output if total is None else total + output
        return total if len(self.networks) == 1 else total / np.float32(len(self.networks))

    def cells_from_output(self, output: np.ndarray, thresholds: Thresholds | None = None):
        """Cells (labels) from an output of this model's networks, with its thresholds."""
        return self.find_cells(output, thresholds)[0]

    def find_cells(self, output: np.ndarray, thresholds: Thresholds | None = None, *, labels=None):
        """The cells of an output of this model's networks, numbered 1..N, and their
        confidences (ndarrays of int32 and float64); cells below the thresholds'
        ``min_confidence`` are left out. ``labels``: cells already found in ``output``
        another way (a benchmark's rule), to be scored and left out alike."""
        thresholds = thresholds or self.thresholds
        record = get_target(self.target)
        labels = record.decode(output, thresholds) if labels is None else labels
        scores = cell_scores(record.cell_probability(output), labels)
        confidence = self.config.calibration.confidence(scores)
        if thresholds.min_confidence > 0 and confidence.size:
            kept = confidence >= thresholds.min_confidence
            lookup = np.zeros(confidence.size + 1, dtype=labels.dtype)
            lookup[1:][kept] = np.arange(1, kept.sum() + 1)
            labels, confidence = lookup[labels], confidence[kept]
        return labels, confidence

    def segment(
        self, image: np.ndarray, *, scale: float | str = AUTO, counterstain: float | None = None
    ) -> Cells:
        """Find the cells of an image held whole.

        ``scale`` enlarges (or shrinks) the image before the network so that its cells
        take the size the model was trained on (2 for a 20x image and a model trained at
        40x, as StarDist's ``scale`` or Cellpose's diameter); labels come back at the
        image's own size. ``"auto"`` chooses it from the image (`choose_scale`).
        A counterstain paler than the training images' is strengthened first by
        ``counterstain``, measured on the image when None (`counterstain_factor`; a
        slide's regions share the factor of one).
        """
        factor, scale = self.image_settings(image, scale, counterstain)
        labels, confidence = self._cells(with_counterstain(image, factor), scale)
        return Cells(image, labels, scale, confidence, factor)

    def image_settings(
        self, image: np.ndarray, scale: float | str = AUTO, counterstain: float | None = None
    ) -> tuple[float, float]:
        """How ``image`` (or a slide's central region) goes through the network: the
        factor its haematoxylin is strengthened by (``counterstain``, or when None
        `counterstain_factor`'s), and the scale (``scale``; for ``"auto"``, `choose_scale`'s
        on its central crop strengthened by that factor)."""
        if counterstain is None:
            counterstain = counterstain_factor(image, self.config.haematoxylin)
        if scale == AUTO:
            crop = central_crop(image, AUTO_SCALE_CROP)  # only the crop is strengthened
            scale = self.choose_scale(with_counterstain(crop, counterstain))
        return counterstain, float(scale)

    def choose_scale(self, image: np.ndarray) -> float:
        """The scale ``"auto"`` uses for ``image``: among `AUTO_SCALES` (40x, 20x and 10x
        images for a model trained at 40x), the one at which the network is surest of the
        cells it finds on the image's central crop (`choose_scale`)."""
        crop = as_rgb(central_crop(image, AUTO_SCALE_CROP))
        trials = []
        for scale in AUTO_SCALES:
            # Bilinear, as the rule was set: cubic tips its near-ties (EXPERIMENTS row 53).
            output = self.output(enlarged(crop, scale, cubic=False))
            record = get_target(self.target)
            labels = record.decode(output, self.thresholds)
            scores = cell_scores(record.cell_probability(output), labels)
            trial = ScaleTrial.of(scale, labels, scores)
            trials.append(trial)
            if len(trials) > 1 and trial.mean_score < trials[-2].mean_score:
                small = trials[-2].median_area < (self.config.cell_area or 0) / 2
                if not small:
                    break  # surer of the smaller scale's cells: no use going further
        return choose_scale(trials, self.config.cell_area)

    def _cells(self, image: np.ndarray, scale: float):
        if not scale > 0:
            raise ValueError(f"scale must be positive, got {scale}")
        if scale == 1:
            return self.find_cells(self.output(image))
        return rescaled(lambda bigger: self._cells(bigger, 1.0), as_rgb(image), scale)

    def segment_file(self, path, *, scale: float | str = AUTO, tissue_only: bool = True):
        """Find the cells of an image or slide file: `Cells` when it is held whole,
        `SlideCells` (`segment_slide`) for a slide (`cellseg.image_io.SLIDE_SUFFIXES`, even
        an untiled one), a pyramidal TIFF, or any image past `REGION_MODE_PIXELS` at that
        scale (``"auto"``'s, chosen first, for an image below it at 1)."""
        from cellseg.errors import CellsegError
        from cellseg.image_io import SLIDE_SUFFIXES, is_tiff, read_picture
        from cellseg.slide_io import ArrayRegions, TiffRegions, open_slide

        size_scale, path, source = 1.0 if scale == AUTO else float(scale), Path(path), None
        if path.suffix.lower() in SLIDE_SUFFIXES or is_tiff(path):
            try:
                source = open_slide(path)
            except CellsegError:
                if not is_tiff(path):
                    raise  # else read whole: read_image says what is wrong, or reads it
        if source is not None:
            plain = is_tiff(path) and isinstance(source, TiffRegions)  # no scanner's file
            large = prod(source.shape) * size_scale**2 > REGION_MODE_PIXELS
            if not plain or len(source.level_shapes) > 1 or large:
                return self.segment_slide(source, scale=scale, tissue_only=tissue_only)
            source.close()
        image, counterstain = read_picture(path), None
        if scale == AUTO and prod(image.shape[:2]) <= REGION_MODE_PIXELS:
            # Chosen first: an image enlarged past REGION_MODE_PIXELS goes region by region.
            counterstain, scale = self.image_settings(image)
            size_scale = scale
        if prod(image.shape[:2]) * size_scale**2 <= REGION_MODE_PIXELS:
            return self.segment(image, scale=scale, counterstain=counterstain)
        return self.segment_slide(ArrayRegions(image), scale=scale, tissue_only=tissue_only)

    def segment_slide(self, source, *, scale=AUTO, tissue_only: bool = True) -> SlideCells:
        """Find the cells of a large image region by region (`SlideCells`): with
        ``tissue_only``, only its regions that hold tissue, cut down to it; ``"auto"``
        chooses one scale for the whole slide, on its central region with tissue."""
        from cellseg.neural_network.whole_slide import plan_slide

        try:
            tissue, regions, scale, counterstain = plan_slide(self, source, tissue_only, scale)
        except BaseException:
            source.close()
            raise
        return SlideCells(source.shape, scale, regions, source, self, tissue, counterstain)
