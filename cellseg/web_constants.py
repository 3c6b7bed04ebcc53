"""The numbers the browser page shares with the Python it follows, kept in one home: here.

The page's JavaScript (``cellseg/web/``) repeats in the browser what `TrainedModel.segment`,
the measurements and ``counts.csv`` do in Python, so it needs the same constants. They are
read from the Python modules that own them by `shared_constants`, and written as the ES
module ``cellseg/web/constants.js`` by `module_text`, which the page's modules import. A
test keeps that file equal to `module_text()`; after changing one of these constants, run

    python -m cellseg.web_constants

to write it again.
"""

import json
from pathlib import Path

#: The file the page's modules import the constants from.
CONSTANTS_JS = Path(__file__).resolve().parent / "web" / "constants.js"

_HEADER = """\
// Written by `python -m cellseg.web_constants` from the Python modules that own these
// numbers (cellseg/web_constants.py names them): do not edit; change the Python and run it.
"""


def shared_constants() -> dict[str, object]:
    """Each constant the page needs, by the name its JavaScript uses, from its home."""
    from skimage.color import hed_from_rgb, rgb_from_hed

    from cellseg.neural_network import prediction
    from cellseg.neural_network.targets import TARGETS
    from cellseg.postprocessing import confidence, drawing, measurements, positivity
    from cellseg.preprocessing import colour

    return {
        # skimage.color's stain matrices (Ruifrok & Johnston), as colour and measurements use
        "HED_FROM_RGB": hed_from_rgb.tolist(),
        "RGB_FROM_HED": rgb_from_hed.tolist(),
        # a pale counterstain strengthened (cellseg.preprocessing.colour)
        "NO_EOSIN": colour.NO_EOSIN,
        "NO_HAEMATOXYLIN": colour.NO_HAEMATOXYLIN,
        "MOST_COUNTERSTAIN": colour.MOST_COUNTERSTAIN,
        "BRIGHTFIELD_GREY": colour.BRIGHTFIELD_GREY,
        # the network over an image, whole or in tiles (cellseg.neural_network.prediction)
        "WHOLE_IMAGE_PIXELS": prediction.WHOLE_IMAGE_PIXELS,
        "LARGE_TILE": prediction.LARGE_TILE,
        "TILE_OVERLAP": prediction.TILE_OVERLAP,
        # the scales "auto" tries, on a central crop, from enough cells
        "AUTO_SCALES": list(prediction.AUTO_SCALES),
        "AUTO_SCALE_CROP": prediction.AUTO_SCALE_CROP,
        "AUTO_SCALE_MIN_CELLS": prediction.AUTO_SCALE_MIN_CELLS,
        # output channels whose sign turns when an image is mirrored, by target and axis
        "MIRRORED_CHANNELS": {
            name: {"upDown": target.mirrored[0], "leftRight": target.mirrored[1]}
            for name, target in TARGETS.items()
            if target.mirrored
        },
        # the cells' confidence (cellseg.postprocessing.confidence)
        "CONFIDENCE_EDGE": confidence.CONFIDENCE_EDGE,
        # DAB positivity (cellseg.postprocessing.positivity)
        "BIC_MARGIN": positivity.BIC_MARGIN,
        "LEAST_DAB_GAP": positivity.LEAST_DAB_GAP,
        "LOWEST_DAB": positivity.LOWEST_DAB,
        # the cell table's columns and the outlines' colours
        "CELL_COLUMNS": list(measurements.CELL_COLUMNS),
        "MICRON_COLUMNS": list(measurements.MICRON_COLUMNS),
        "CELL_DECIMALS": measurements.DECIMALS,
        "OUTLINE_RED": list(drawing.OUTLINE_RED),
        "POSITIVE_COLOUR": list(drawing.POSITIVE_COLOUR),
        "NEGATIVE_COLOUR": list(drawing.NEGATIVE_COLOUR),
    }


def module_text() -> str:
    """``constants.js``: one ``export const`` per shared constant, its value as JSON."""
    lines = [
        f"export const {name} = {json.dumps(value)};" for name, value in shared_constants().items()
    ]
    return _HEADER + "\n".join(lines) + "\n"


if __name__ == "__main__":
    CONSTANTS_JS.write_text(module_text())
    print(f"wrote {CONSTANTS_JS}")
