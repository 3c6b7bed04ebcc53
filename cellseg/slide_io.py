"""Read whole slides window by window.

A slide source gives windows of a slide as uint8 (``read(top, left, bottom, right)``: RGB,
or grey for a grey slide), its ``shape`` (rows, columns), a picture of it many times
smaller (``low_resolution``, for the tissue mask) and ``close()``. `open_slide` chooses
one by the file's suffix, then its content: `TiffRegions` reads TIFF, BigTIFF and OME-TIFF
through tifffile's zarr store (only the tiles or strips a window touches), and scanners'
files that OpenSlide does not take but tifffile does (an untiled ``.svs``);
`OpenSlideRegions` reads the scanners' formats through OpenSlide (`SLIDE_SUFFIXES`, and
TIFFs that tifffile cannot read); `CziRegions` Zeiss slides OpenSlide does not read
(JPEG XR tiles) through pylibCZIrw; `ArrayRegions` an image already in memory. What is found
in them is kept and written by `cellseg.slide_outputs`.
"""

from pathlib import Path

import numpy as np

from cellseg.errors import CellsegError, file_error
from cellseg.image_io import SLIDE_SUFFIXES, holds_tiff, is_tiff, picture_kind
from cellseg.image_limits import decoding
from cellseg.preprocessing.colour import significant_bits, to_8_bit

#: Windows read at once when a level is shrunk to a low-resolution picture.
_BLOCK = 2048
#: Memory for a Zeiss slide's decoded tiles (`CziRegions`), which several regions' windows
#: share: a 6000 x 6000 slide of 2048-pixel JPEG XR tiles was read region by region about
#: ten times faster with it than without, each tile decoded again for every window it
#: touches (`python benchmarks/czi_reading.py`).
CZI_CACHE_BYTES = 256 * 2**20


class ArrayRegions:
    """Windows of an image already in memory; 16-bit data scaled to 8 bits by the whole
    image's bit depth (`cellseg.preprocessing.colour.to_8_bit`), so every window alike."""

    def __init__(self, image: np.ndarray):
        self.image = image
        self.shape = image.shape[:2]
        self.bits = significant_bits(image)

    def read(self, top: int, left: int, bottom: int, right: int) -> np.ndarray:
        return to_8_bit(self.image[top:bottom, left:right], self.bits)

    def low_resolution(self, downsample: int) -> np.ndarray:
        """The image shrunk ``downsample`` times (block means)."""
        return _shrunk(self.read, self.shape, downsample)

    def close(self) -> None:
        pass


class TiffRegions:
    """Windows of a (Big)TIFF or OME-TIFF, read lazily through tifffile's zarr store; 16-bit
    data scaled to 8 bits by the depth the file declares (``BitsPerSample``)."""

    def __init__(self, path):
        import tifffile
        import zarr

        self.path = Path(path)
        with decoding(self.path, "TIFF"):
            with tifffile.TiffFile(self.path) as tiff:
                if not tiff.series:
                    raise file_error(self.path, "TIFF holds no image")
                series = tiff.series[0]
                self.axes = series.axes
                self.level_shapes = [_rows_columns(level) for level in series.levels]
                page = tiff.pages[0]
                if page.photometric == tifffile.PHOTOMETRIC.SEPARATED:
                    raise file_error(self.path, "CMYK TIFF is not supported; convert it to RGB")
                self.bits = int(page.bitspersample)
            self.store = tifffile.imread(self.path, aszarr=True)
            array = zarr.open(self.store, mode="r")
            grouped = hasattr(array, "keys")  # a pyramid: one array per level
            self.levels = (
                [array[str(k)] for k in range(len(self.level_shapes))] if grouped else [array]
            )
        if self.axes not in ("YX", "YXS", "SYX", "CYX"):
            self.close()
            raise file_error(self.path, f"TIFF has axes {self.axes}; give one 2-D image per file")
        self.shape = self.level_shapes[0]

    def read(self, top: int, left: int, bottom: int, right: int, *, level: int = 0) -> np.ndarray:
        """The window's pixels; a damaged tile or strip is one line naming the file."""
        with decoding(self.path, "TIFF"):
            if self.axes in ("SYX", "CYX"):
                window = self.levels[level][:, top:bottom, left:right]
                window = np.moveaxis(np.asarray(window), 0, -1)
            else:
                window = np.asarray(self.levels[level][top:bottom, left:right])
        return to_8_bit(window, self.bits)

    def low_resolution(self, downsample: int) -> np.ndarray:
        """The slide shrunk about ``downsample`` times, from its smallest level that is
        at least that sharp."""
        factors = [self.shape[1] / shape[1] for shape in self.level_shapes]
        level = max(k for k, factor in enumerate(factors) if factor <= downsample * 1.01)
        rest = max(1, round(downsample / factors[level]))
        return _shrunk(
            lambda *window: self.read(*window, level=level), self.level_shapes[level], rest
        )

    def close(self) -> None:
        store = getattr(self, "store", None)
        if store is not None:
            store.close()


class OpenSlideRegions:
    """Windows of a slide in a scanner's format (Aperio SVS, Hamamatsu NDPI, MIRAX, DICOM,
    Leica, Philips, Ventana...), read through OpenSlide; what the scanner left empty is
    its background colour (white)."""

    def __init__(self, path):
        import openslide

        self.path = Path(path)
        self.errors = (openslide.OpenSlideError, OSError, ValueError)
        try:
            self.slide = openslide.OpenSlide(self.path)
        except self.errors as error:
            kind = "not a slide OpenSlide can read" if not is_tiff(self.path) else "unreadable"
            raise file_error(self.path, f"{kind} ({_first_line(error)})") from None
        columns, rows = self.slide.dimensions
        self.shape = (rows, columns)
        colour = self.slide.properties.get(openslide.PROPERTY_NAME_BACKGROUND_COLOR) or "FFFFFF"
        self.background = np.array([int(colour[i : i + 2], 16) for i in (0, 2, 4)], np.uint8)

    def read(self, top: int, left: int, bottom: int, right: int, *, level: int = 0) -> np.ndarray:
        """The window's pixels (in the level's own rows and columns)."""
        scale = self.slide.level_downsamples[level]
        try:
            region = self.slide.read_region(
                (round(left * scale), round(top * scale)), level, (right - left, bottom - top)
            )
        except self.errors as error:
            raise file_error(self.path, f"cannot read a region ({_first_line(error)})") from None
        pixels = np.asarray(region)
        rgb = np.ascontiguousarray(pixels[..., :3])
        rgb[pixels[..., 3] == 0] = self.background
        return rgb

    def low_resolution(self, downsample: int) -> np.ndarray:
        """The slide shrunk about ``downsample`` times, from OpenSlide's best level."""
        level = self.slide.get_best_level_for_downsample(downsample)
        columns, rows = self.slide.level_dimensions[level]
        rest = max(1, round(downsample / self.slide.level_downsamples[level]))
        return _shrunk(lambda *window: self.read(*window, level=level), (rows, columns), rest)

    def close(self) -> None:
        self.slide.close()


class CziRegions:
    """Windows of a Zeiss CZI slide that OpenSlide does not read (JPEG XR tiles, which
    OpenSlide 4.0.1 does not decode; tiles with Z or T dimensions, as pylibCZIrw writes
    them), read through Zeiss' own pylibCZIrw, its decoded tiles kept up to
    ``cache_bytes`` (none for 0); its first channel, what the scanner left empty white."""

    def __init__(self, path, *, cache_bytes: int = CZI_CACHE_BYTES):
        from pylibCZIrw import czi

        self.path = Path(path)
        try:
            cache = czi.CacheOptions(max_memory_usage=cache_bytes)
            self.document = czi.CziReader(str(self.path), cache_options=cache)
            box = self.document.total_bounding_rectangle
            kind = self.document.get_channel_pixel_type(0)
        except (RuntimeError, OSError, ValueError, KeyError) as error:
            raise file_error(self.path, f"not a CZI slide ({_first_line(error)})") from None
        self.origin, self.shape = (box.y, box.x), (box.h, box.w)
        self.colour = kind.startswith("Bgr")
        self.bits = 16 if kind in ("Gray16", "Bgr48") else 8

    def read(self, top: int, left: int, bottom: int, right: int, *, zoom: float = 1.0):
        """The window's pixels (in level 0's rows and columns), as RGB or grey, shrunk by
        ``zoom`` from the slide's smallest level at least that sharp."""
        roi = (self.origin[1] + left, self.origin[0] + top, right - left, bottom - top)
        try:
            pixels = self.document.read(roi, {"C": 0}, zoom=zoom, background_pixel=(1, 1, 1))
        except (RuntimeError, ValueError) as error:
            raise file_error(self.path, f"cannot read a region ({_first_line(error)})") from None
        pixels = pixels[..., ::-1] if self.colour else pixels[..., 0]
        return to_8_bit(np.ascontiguousarray(pixels), self.bits)

    def low_resolution(self, downsample: int) -> np.ndarray:
        """The slide shrunk ``downsample`` times, from its pyramid."""
        return self.read(0, 0, *self.shape, zoom=1 / downsample)

    def close(self) -> None:
        self.document.close()


def open_slide(path):
    """The slide source for a file: `OpenSlideRegions` for the scanners' formats
    (`SLIDE_SUFFIXES`) and for TIFFs that tifffile cannot read but OpenSlide can;
    `CziRegions` for a Zeiss slide OpenSlide refuses; `TiffRegions` for other TIFFs;
    `ArrayRegions` for PNG and JPEG.

    Raises
    ------
    CellsegError
        One line naming the file, for a file neither library reads.
    """
    from cellseg.image_io import read_picture

    path = Path(path)
    if not path.is_file():
        raise file_error(path, "no such file" if not path.exists() else "is not a file")
    if path.stat().st_size == 0 and path.suffix.lower() != ".mrxs":  # MIRAX: in its folder
        raise file_error(path, "empty file (0 bytes)")
    if path.suffix.lower() in SLIDE_SUFFIXES:
        try:
            return OpenSlideRegions(path)
        except CellsegError:
            if path.suffix.lower() == ".czi":
                return CziRegions(path)  # JPEG XR tiles, as many Zeiss scanners write them
            if not holds_tiff(path):
                _refuse_a_picture(path)
                raise
            return TiffRegions(path)  # one OpenSlide does not take, such as an untiled .svs
    if not is_tiff(path):
        return ArrayRegions(read_picture(path))
    try:
        return TiffRegions(path)
    except CellsegError:
        import openslide

        if openslide.OpenSlide.detect_format(path) is None:
            raise
        return OpenSlideRegions(path)


def _refuse_a_picture(path: Path) -> None:
    """Raise the error that says a file named as a slide is a PNG or JPEG picture."""
    kind = picture_kind(path)
    if kind is not None:
        raise file_error(path, f"is a {kind} picture, not a slide: name it .{kind.lower()}")


def _rows_columns(series) -> tuple[int, int]:
    return series.shape[series.axes.index("Y")], series.shape[series.axes.index("X")]


def _shrunk(read, shape, factor: int) -> np.ndarray:
    """A level shrunk ``factor`` times by block means, read a block at a time; its channels
    as read (RGB, grey, grey and alpha...)."""
    rows, columns = shape
    result = None
    step = max(1, _BLOCK // factor) * factor
    for top in range(0, rows, step):
        for left in range(0, columns, step):
            block = read(top, left, min(top + step, rows), min(left + step, columns))
            block = block.reshape(*block.shape[:2], -1)
            high, wide = -(-block.shape[0] // factor), -(-block.shape[1] // factor)
            padding = ((0, high * factor - block.shape[0]), (0, wide * factor - block.shape[1]))
            block = np.pad(block, (*padding, (0, 0)), mode="edge")
            means = block.reshape(high, factor, wide, factor, -1).mean(axis=(1, 3))
            if result is None:
                result = np.zeros((-(-rows // factor), -(-columns // factor), means.shape[-1]))
            result[top // factor : top // factor + high, left // factor : left // factor + wide] = (
                means
            )
    picture = np.rint(result).astype(np.uint8)
    return picture[..., 0] if picture.shape[-1] == 1 else picture


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
