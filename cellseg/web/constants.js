// Written by `python -m cellseg.web_constants` from the Python modules that own these
// numbers (cellseg/web_constants.py names them): do not edit; change the Python and run it.
export const HED_FROM_RGB = [[1.8779827368521356, -1.0076786862855642, -0.5561158181996246], [-0.06590806222356334, 1.1347303724996625, -0.13552179862837116], [-0.6019073634392891, -0.4804141884970579, 1.5735880719641926]];
export const RGB_FROM_HED = [[0.65, 0.7, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]];
export const NO_EOSIN = 0.01;
export const NO_HAEMATOXYLIN = 0.01;
export const MOST_COUNTERSTAIN = 4.0;
export const BRIGHTFIELD_GREY = 64;
export const WHOLE_IMAGE_PIXELS = 4194304;
export const LARGE_TILE = 1280;
export const TILE_OVERLAP = 64;
export const AUTO_SCALES = [1.0, 2.0, 4.0];
export const AUTO_SCALE_CROP = 384;
export const AUTO_SCALE_MIN_CELLS = 10;
export const MIRRORED_CHANNELS = {"hover": {"upDown": 4, "leftRight": 3}};
export const CONFIDENCE_EDGE = 0.0001;
export const BIC_MARGIN = 10.0;
export const LEAST_DAB_GAP = 0.15;
export const LOWEST_DAB = 0.01;
export const CELL_COLUMNS = ["id", "centroid_row", "centroid_column", "area", "perimeter", "eccentricity", "haematoxylin", "dab", "confidence"];
export const MICRON_COLUMNS = ["area_um2", "perimeter_um"];
export const CELL_DECIMALS = {"centroid_row": 3, "centroid_column": 3, "perimeter": 3, "eccentricity": 4, "haematoxylin": 4, "dab": 4, "confidence": 4, "area_um2": 4, "perimeter_um": 4};
export const OUTLINE_RED = [255, 0, 0];
export const POSITIVE_COLOUR = [200, 50, 50];
export const NEGATIVE_COLOUR = [112, 112, 225];
