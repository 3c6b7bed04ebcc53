"""Small slides in the scanners' own layouts, written for the tests that read them.

An Aperio SVS (a tiled TIFF whose first ``ImageDescription`` starts ``Aperio`` and gives
``MPP``, its levels in further tiled pages, a stripped thumbnail) and a single-level one, an
OME-TIFF pyramid in SubIFDs with its ``PhysicalSizeX``, a Hamamatsu NDPI (each level one
JPEG, Hamamatsu's private tags, the pixel size in the resolution tags), an ARGOS ``.avs``
(a tiled BigTIFF with its metadata XML in tag 65000), a Philips TIFF export (its levels'
pixel spacing in its first description's XML), a Ventana TIFF (its pixel size in the XMP
of its first page), a DICOM whole-slide
image (a folder of files, one per level, of tiled frames, written with pydicom); MIRAX and
Zeiss CZI slides have writers of their own (``mirax_writer``, ``czi_writer``).
`tissue_slide` makes the picture: synthetic H&E on glass.
"""

import numpy as np
import tifffile

from cellseg.preprocessing.synthetic import synthetic_tissue

GLASS = (238, 236, 240)


def tiled_levels(path, image, downsamples, pages, *, bigtiff=False):
    """A TIFF of ``image`` at each of ``downsamples`` (every so many pixels kept), one
    JPEG-tiled page a level, with the tags ``pages(level, factor)`` gives each page."""
    with tifffile.TiffWriter(path, bigtiff=bigtiff) as tiff:
        for level, factor in enumerate(downsamples):
            tiff.write(
                image[::factor, ::factor],
                tile=(256, 256),
                photometric="rgb",
                compression="jpeg",
                metadata=None,
                **pages(level, factor),
            )


def aperio_slide(path, image, mpp, *, downsamples=(4, 16)):
    """An Aperio-style pyramidal TIFF (``.svs``) of ``image`` at ``mpp`` um per pixel."""
    rows, columns = image.shape[:2]
    head = "Aperio Image Library v12.0.15\r\n"
    level = {"tile": (256, 256), "photometric": "rgb", "compression": "zlib", "metadata": None}
    with tifffile.TiffWriter(path) as tiff:
        tiff.write(
            image,
            description=f"{head}{columns}x{rows} [0,0 {columns}x{rows}] (256x256) "
            f"RAW/RGB|AppMag = {round(10 / mpp)}|MPP = {mpp}",
            **level,
        )
        thumbnail = image[::32, ::32]
        tiff.write(thumbnail, photometric="rgb", description=f"{head}thumbnail", metadata=None)
        for factor in downsamples:
            small = image[::factor, ::factor]
            size = f"{columns}x{rows} -> {small.shape[1]}x{small.shape[0]}"
            tiff.write(small, description=f"{head}{size} - ", **level)


def ome_slide(path, image, pixel_size, *, levels=2):
    """A pyramidal OME-TIFF of ``image``, its levels in SubIFDs, at ``pixel_size`` um."""
    options = {"tile": (256, 256), "photometric": "rgb", "compression": "zlib"}
    metadata = {"axes": "YXS", "PhysicalSizeX": pixel_size, "PhysicalSizeY": pixel_size}
    with tifffile.TiffWriter(path, bigtiff=True, ome=True) as tiff:
        tiff.write(image, subifds=levels, metadata=metadata, **options)
        for level in range(1, levels + 1):
            tiff.write(image[:: 2**level, :: 2**level], subfiletype=1, **options)


def ndpi_slide(path, image, pixel_size, *, downsamples=(1, 4)):
    """A Hamamatsu NDPI (``.ndpi``) of ``image`` at ``pixel_size`` um: a TIFF whose levels
    are each one JPEG, marked by the tags OpenSlide tells the format by (65420, the NDPI
    flag; 65421, the magnification; 65422-65424, the offsets of the slide and its focus)."""
    per_centimetre = 1e4 / pixel_size
    with tifffile.TiffWriter(path) as tiff:
        for factor in downsamples:
            level = image[::factor, ::factor]
            tiff.write(
                level,
                photometric="rgb",
                compression="jpeg",
                compressionargs={"level": 95},
                rowsperstrip=level.shape[0],
                resolution=(per_centimetre / factor, per_centimetre / factor),
                resolutionunit="CENTIMETER",
                metadata=None,
                extratags=[
                    (65420, "I", 1, 1, True),
                    (65421, "f", 1, 10 / pixel_size / factor, True),
                    *((tag, "i", 1, 0, True) for tag in (65422, 65423, 65424)),
                ],
            )


def argos_slide(path, image, pixel_size, *, downsamples=(1, 4)):
    """An ARGOS slide (``.avs``) of ``image`` at ``pixel_size`` um: a tiled BigTIFF pyramid
    whose first page holds the scan's metadata XML in tag 65000 (root
    ``Argos.Scan.Metadata``, one focal plane), the pixel size in the resolution tags."""
    per_centimetre = 1e4 / pixel_size
    xml = "<Argos.Scan.Metadata><MinZ>0</MinZ><MaxZ>0</MaxZ></Argos.Scan.Metadata>"
    tiled_levels(
        path,
        image,
        downsamples,
        lambda level, factor: {
            "compressionargs": {"level": 95},
            "resolution": (per_centimetre / factor, per_centimetre / factor),
            "resolutionunit": "CENTIMETER",
            "extratags": [(65000, "s", 0, xml, True)] if level == 0 else [],
        },
        bigtiff=True,
    )


def philips_slide(path, image, pixel_size, *, downsamples=(1, 4)):
    """A Philips TIFF export (``.tiff``) of ``image`` at ``pixel_size`` um: tiled pages of
    its levels, software ``Philips``, the first page's description the XML ``DataObject``
    (``DPUfsImport``) that gives each level's ``DICOM_PIXEL_SPACING`` in millimetres."""
    millimetres = pixel_size / 1000
    levels = "".join(
        '<DataObject ObjectType="PixelDataRepresentation">'
        '<Attribute Name="DICOM_PIXEL_SPACING" Group="0x0028" Element="0x0030" '
        f'PMSVR="IDoubleArray">&quot;{millimetres * factor:g}&quot; '
        f"&quot;{millimetres * factor:g}&quot;</Attribute></DataObject>"
        for factor in downsamples
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8" ?><DataObject ObjectType="DPUfsImport">'
        '<Attribute Name="PIM_DP_SCANNED_IMAGES" PMSVR="IDataObjectArray"><Array>'
        '<DataObject ObjectType="DPScannedImage">'
        '<Attribute Name="PIM_DP_IMAGE_TYPE" PMSVR="IString">WSI</Attribute>'
        '<Attribute Name="PIIM_PIXEL_DATA_REPRESENTATION_SEQUENCE" PMSVR="IDataObjectArray">'
        f"<Array>{levels}</Array></Attribute></DataObject></Array></Attribute></DataObject>"
    )
    tiled_levels(
        path,
        image,
        downsamples,
        lambda level, _: {
            "software": "Philips DP v1.0",
            "description": xml if level == 0 else f"level={level}",
            "subfiletype": 1 if level else 0,
        },
    )


def ventana_slide(path, image, pixel_size, *, downsamples=(1, 4)):
    """A Ventana TIFF (``.tif``, as BIF slides are exported) of ``image`` at ``pixel_size``
    um: tiled pages of its levels described ``level=N mag=M quality=90``, the first with
    the scanner's XMP (tag 700), an ``iScan`` element whose ``ScanRes`` is the pixel size."""
    magnification = round(10 / pixel_size)
    xmp = (
        '<?xml version="1.0" encoding="utf-8"?><iScan Z-layers="1" '
        f'ScanRes="{pixel_size:g}" Magnification="{magnification}" UnitNumber="BI10N0001"/>'
    ).encode()
    tiled_levels(
        path,
        image,
        downsamples,
        lambda level, factor: {
            "description": f"level={level} mag={magnification / factor:g} quality=90",
            "extratags": [(700, 1, len(xmp), xmp, True)] if level == 0 else [],
            "subfiletype": 1 if level else 0,
        },
        bigtiff=True,
    )


def dicom_slide(folder, image, pixel_size, *, downsamples=(1, 4), tile=256):
    """A DICOM whole-slide image of ``image`` at ``pixel_size`` um: one file per level in
    ``folder`` (VL Whole Slide Microscopy Image Storage, tiles in ``TILED_FULL`` order,
    uncompressed), the levels sharing their study, series and frame of reference."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    study, series, frame_of_reference = generate_uid(), generate_uid(), generate_uid()
    for number, factor in enumerate(downsamples, start=1):
        level = image[::factor, ::factor]
        rows, columns = level.shape[:2]
        across, down = -(-columns // tile), -(-rows // tile)
        padded = np.full((down * tile, across * tile, 3), 255, np.uint8)
        padded[:rows, :columns] = level
        frames = padded.reshape(down, tile, across, tile, 3).swapaxes(1, 2)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.77.1.6"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        data = Dataset()
        data.file_meta = meta
        data.SOPClassUID, data.SOPInstanceUID = meta.MediaStorageSOPClassUID, generate_uid()
        data.StudyInstanceUID, data.SeriesInstanceUID = study, series
        data.FrameOfReferenceUID = frame_of_reference
        data.Modality, data.InstanceNumber = "SM", number
        data.ImageType = ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"]
        data.SamplesPerPixel, data.PhotometricInterpretation, data.PlanarConfiguration = 3, "RGB", 0
        data.BitsAllocated, data.BitsStored, data.HighBit, data.PixelRepresentation = 8, 8, 7, 0
        data.Rows, data.Columns, data.NumberOfFrames = tile, tile, across * down
        data.TotalPixelMatrixRows, data.TotalPixelMatrixColumns = rows, columns
        data.DimensionOrganizationType = "TILED_FULL"
        spacing = pixel_size * factor / 1000  # millimetres
        data.ImagedVolumeWidth, data.ImagedVolumeHeight = columns * spacing, rows * spacing
        measures = Dataset()
        measures.PixelSpacing, measures.SliceThickness = [spacing, spacing], 1
        groups = Dataset()
        groups.PixelMeasuresSequence = [measures]
        data.SharedFunctionalGroupsSequence = [groups]
        data.TotalPixelMatrixFocalPlanes, data.NumberOfOpticalPaths = 1, 1
        path = Dataset()
        path.OpticalPathIdentifier = "1"
        data.OpticalPathSequence = [path]
        data.PixelData = frames.tobytes()
        data.save_as(folder / f"level{number - 1}.dcm", enforce_file_format=True)


def tissue_slide(shape, *, tissue=0.3, seed=0):
    """Synthetic H&E on glass: an ellipse of tissue covering ``tissue`` of the slide, its
    image and its cells (labels, cut at the tissue's edge)."""
    image, labels = synthetic_tissue(shape, seed=seed, cell_radius=(4, 9), density=0.2)
    rows, columns = np.ogrid[: shape[0], : shape[1]]
    radius = np.sqrt(tissue * shape[0] * shape[1] / np.pi)
    inside = ((rows - shape[0] / 2) / (radius * 0.8)) ** 2 + (
        (columns - shape[1] / 2) / (radius / 0.8)
    ) ** 2 <= 1
    noise = np.random.default_rng(seed).integers(-3, 4, (*shape, 3))
    glass = np.clip(np.array(GLASS) + noise, 0, 255).astype(np.uint8)
    image = np.where(inside[..., None], image, glass)
    return image, np.where(inside, labels, 0), inside


def single_level_svs(path, image, mpp, *, tiled=True):
    """An ``.svs`` of one level, as tifffile writes one with an Aperio description and no
    pyramid: OpenSlide takes a tiled one for a plain TIFF, and refuses an untiled one."""
    rows, columns = image.shape[:2]
    description = (
        f"Aperio Image Library v12.0.15\r\n{columns}x{rows} [0,0 {columns}x{rows}] (256x256) "
        f"RAW/RGB|AppMag = {round(10 / mpp)}|MPP = {mpp}"
    )
    tiles = {"tile": (256, 256)} if tiled else {}
    tifffile.imwrite(
        path, image, description=description, photometric="rgb", metadata=None, **tiles
    )
