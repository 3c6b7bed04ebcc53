"""What an image file says about itself besides its pixels: its pixel size and bit depth.

Both are read from the file's tags when it records them; a file that does not say, or
says what no microscope gives, has none (None).
"""

import struct
from pathlib import Path

from cellseg.errors import file_error
from cellseg.image_io import PNG_SUFFIXES, SLIDE_SUFFIXES, holds_tiff, is_tiff
from cellseg.image_limits import decoding

#: Pixel sizes, in micrometres, that a microscope image can have: a file recording another
#: (72 dots per inch, the common default, is 353 um) says nothing of its magnification.
PLAUSIBLE_PIXEL_SIZES = (0.05, 20.0)


def read_pixel_size(path) -> float | None:
    """Micrometres per pixel, as the file records it (`recorded_pixel_size`), when it is one
    a microscope gives (`plausible_pixel_size`); else None. Never raises for a readable
    image."""
    return plausible_pixel_size(recorded_pixel_size(path))


def recorded_pixel_size(path) -> float | None:
    """Micrometres per pixel, as the file records it, plausible or not: a TIFF's OME
    ``PhysicalSizeX``, a Philips TIFF's ``DICOM_PIXEL_SPACING``, a Ventana TIFF's
    ``ScanRes``, its Aperio ``MPP``, or its
    resolution tags in centimetres or inches; a PNG's ``pHYs`` in metres; a slide's
    ``openslide.mpp-x``
    (`cellseg.image_io.SLIDE_SUFFIXES`, as OpenSlide reads it from the scanner's metadata).
    None when it records none. Never raises for a readable image.
    """
    path = Path(path)
    try:
        if path.suffix.lower() in SLIDE_SUFFIXES:
            return _slide_pixel_size(path)
        if is_tiff(path):
            return _tiff_pixel_size(path)
        if path.suffix.lower() in PNG_SUFFIXES:
            return _png_pixel_size(path)
    except Exception:  # a pixel size is a bonus: a file that hides it has none
        return None
    return None


def plausible_pixel_size(size: float | None) -> float | None:
    """``size`` (micrometres), rounded to 6 decimals, when a microscope image can have it
    (`PLAUSIBLE_PIXEL_SIZES`); None otherwise.

    Examples
    --------
    >>> plausible_pixel_size(0.2500001), plausible_pixel_size(25400 / 72)  # 72 dpi
    (0.25, None)
    """
    low, high = PLAUSIBLE_PIXEL_SIZES
    return round(size, 6) if size is not None and low <= size <= high else None


def _tiff_pixel_size(path: Path) -> float | None:
    import re

    import tifffile

    with decoding(path, "TIFF"), tifffile.TiffFile(path) as tiff:  # its messages name it
        page = tiff.pages[0]
        if tiff.is_ome and tiff.ome_metadata:
            found = re.search(r'PhysicalSizeX="([0-9.eE+-]+)"', tiff.ome_metadata)
            unit = re.search(r'PhysicalSizeXUnit="([^"]+)"', tiff.ome_metadata)
            if found:
                scale = {"nm": 1e-3, "um": 1.0, "µm": 1.0, "mm": 1e3}.get(
                    unit.group(1) if unit else "µm", 1.0
                )
                return float(found.group(1)) * scale
        philips = _philips_pixel_size(tiff.philips_metadata) if tiff.is_philips else None
        if philips:
            return philips
        xmp = page.tags.get(700)
        ventana = _ventana_pixel_size(xmp.value) if xmp is not None else None
        if ventana:
            return ventana
        description = page.description or ""
        found = re.search(r"MPP\s*=\s*([0-9.]+)", description)
        if found:
            return float(found.group(1))
        tags = page.tags
        if "XResolution" in tags and "ResolutionUnit" in tags:
            numerator, denominator = tags["XResolution"].value
            per_unit = numerator / denominator if denominator else 0
            unit = int(tags["ResolutionUnit"].value)
            if per_unit > 0 and unit in (2, 3):  # pixels per inch, per centimetre
                return (25400.0 if unit == 2 else 10000.0) / per_unit
    return None


def _philips_pixel_size(metadata: str | None) -> float | None:
    """A Philips TIFF's pixel size: the ``DICOM_PIXEL_SPACING`` (rows' and columns'
    spacing, in millimetres) of its first pixel data representation, level 0, as
    tifffile reads its levels; None without it."""
    from xml.etree import ElementTree

    if not metadata:
        return None
    spacing = ElementTree.fromstring(metadata).find(
        './/DataObject[@ObjectType="PixelDataRepresentation"]'
        '/Attribute[@Name="DICOM_PIXEL_SPACING"]'
    )
    if spacing is None or not spacing.text:
        return None
    return float(spacing.text.replace('"', "").split()[-1]) * 1000


def _ventana_pixel_size(xmp) -> float | None:
    """A Ventana TIFF's pixel size: the ``ScanRes`` (micrometres) of the ``iScan`` element
    of its first page's XMP, the root or a child of it, as OpenSlide reads it for the
    Ventana slides it opens; None without it, or with XML that does not parse."""
    from xml.etree import ElementTree

    text = xmp.decode("utf-8", "replace") if isinstance(xmp, bytes) else str(xmp)
    if "<iScan" not in text:
        return None
    try:
        root = ElementTree.fromstring(text.strip("\x00 \r\n"))
    except ElementTree.ParseError:  # damaged: the TIFF's other tags may still say
        return None
    scan = root if root.tag == "iScan" else root.find(".//iScan")
    resolution = scan.get("ScanRes") if scan is not None else None
    return float(resolution) if resolution else None


def _slide_pixel_size(path: Path) -> float | None:
    """OpenSlide's ``openslide.mpp-x``; where OpenSlide gives none or cannot read the
    slide, what a Zeiss CZI's metadata says (`_czi_pixel_size`), or what the file records
    as a TIFF (`_tiff_pixel_size`: Aperio's ``MPP`` of a single-level ``.svs`` OpenSlide
    takes for a plain TIFF, or of an untiled one)."""
    import openslide

    try:
        with openslide.OpenSlide(path) as slide:
            size = slide.properties.get(openslide.PROPERTY_NAME_MPP_X)
    except (openslide.OpenSlideError, OSError):
        size = None
    if size:
        return float(size)
    if path.suffix.lower() == ".czi":
        return _czi_pixel_size(path)
    return _tiff_pixel_size(path) if holds_tiff(path) else None


def _czi_pixel_size(path: Path) -> float | None:
    """A Zeiss CZI's ``Scaling/Items/Distance[@Id="X"]/Value`` (metres), as pylibCZIrw
    reads its metadata XML: for a slide OpenSlide does not read (`slide_io.CziRegions`)."""
    from pylibCZIrw import czi

    with czi.open_czi(str(path)) as document:
        distances = document.metadata["ImageDocument"]["Metadata"]["Scaling"]["Items"]["Distance"]
    for distance in distances if isinstance(distances, list) else [distances]:
        if distance.get("@Id") == "X":
            return float(distance["Value"]) * 1e6
    return None


def _png_pixel_size(path: Path) -> float | None:
    with open(path, "rb") as file:
        data = file.read(1 << 16)  # pHYs comes before the image data
    index = data.find(b"pHYs")
    if index < 0 or len(data) < index + 13:
        return None
    across, _, unit = struct.unpack(">IIB", data[index + 4 : index + 13])
    return 1e6 / across if unit == 1 and across else None


def read_bit_depth(path) -> int | None:
    """The bits per sample a TIFF declares where its dtype holds more, else None.

    A 12-bit camera TIFF (``BitsPerSample`` 12) is read as uint16 with values up to 4095:
    this says 12, so that it is scaled by its own range (see
    `cellseg.preprocessing.colour.as_rgb`). PNG and JPEG store their samples scaled to the
    whole range of their depth, and most cameras write 12-bit data with ``BitsPerSample``
    16: for those this is None, and the depth is told from the values instead
    (`cellseg.preprocessing.colour.significant_bits`).

    Raises
    ------
    CellsegError
        For a TIFF that is missing or cannot be read.
    """
    path = Path(path)
    if not is_tiff(path):
        return None
    import tifffile

    if not path.is_file():
        raise file_error(path, "no such file" if not path.exists() else "is not a file")
    with decoding(path, "TIFF"), tifffile.TiffFile(path) as tiff:
        page = tiff.pages[0]
        bits, dtype = page.bitspersample, page.dtype
    if dtype is None or dtype.kind != "u" or bits >= 8 * dtype.itemsize:
        return None
    return int(bits)
