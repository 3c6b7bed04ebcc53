"""Example hyperparameters file for `cellseg train --hyperparameters`.

The first four names are required; the others are optional. Each comment ends with the
default in parentheses; the README's table of hyperparameters says more about each, and
what fine-tuning (`cellseg train --from MODEL`) sets the names a file leaves out to.
"""

BATCH_SIZE = 8  # tiles per training step, shared among the devices (8)
EPOCHS = 30  # training epochs, each of STEPS_PER_EPOCH steps (40)
LEARNING_RATE = 1e-3  # Adam's initial step size, decaying along a cosine to 5% (1e-3)
VALIDATION_SPLIT = 0.2  # fraction of the images held out, whole, for validation (0.2)

TILE_SIZE = 256  # side of the square training tiles, a multiple of 2**DEPTH (256)
STEPS_PER_EPOCH = 50  # omit to see every training pixel about once per epoch (None)
WARMUP_EPOCHS = 0  # epochs over which the learning rate rises from 0; --from uses 1 (0)
AUGMENTATION = 1.0  # strength of random zoom, flips, rotations and stain jitter; 0 = none (1)
BASE_FILTERS = 16  # width of the default U-Net (16)
DEPTH = 4  # poolings of the default U-Net (4)
TEST_TIME_FLIPS = 1  # flipped views averaged when predicting: 1, 2 or 4, each slower (1)
SEPARATION_WEIGHT = 0.0  # extra loss weight between touching cells; the U-Net paper used 10 (0)
CLASS_BALANCE = 1.0  # loss weights: inverse class frequency to this power; 0.5 its root (1)
DICE_WEIGHT = 1.0  # weight of the default loss's soft Dice term; 0 cross-entropy alone (1)
BOUNDARY_WIDTH = 1  # pixels of the 3class target's cell boundary; wider parts crowded cells (1)
ZOOM = 0.25  # training tiles zoomed by 1/(1 + ZOOM) to 1 + ZOOM, for cells of more sizes (0.25)
STAIN = 0.15  # each stain's density in a training tile multiplied by 1 +- STAIN (0.15)
PALE = 0.7  # half the training tiles lose up to this fraction of haematoxylin, as in IHC (0.7)
DAB = 0.5  # chance that a training tile's eosin is re-coloured as DAB brown, as in IHC (0.5)
BLUR = 0.0  # half the training tiles blurred by a Gaussian of up to this many pixels (0)
NOISE = 0.0  # noise of up to this fraction of the 0-255 range added to training tiles (0)
ROTATION = 0.0  # tiles also turned by up to this many degrees; 45 reaches every angle (0)
ELASTIC = 0.0  # tiles bent smoothly by displacements of this many pixels, as in U-Net (0)
CROWDED = 0.0  # share of training tiles placed where cells touch, the rest anywhere (0)
PRECISION = "float32"  # "mixed_bfloat16" or "mixed_float16": faster on GPUs, bf16 CPUs (float32)
WEIGHT_AVERAGE = 0.0  # e.g. 0.999: save the moving average of the weights, not the last (0)
