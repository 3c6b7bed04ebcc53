"""Hyperparameters of the bundled default model (trained_models/default).

A narrow U-Net (8 filters at the first of 4 levels, about half a million parameters) so that
it runs in a browser tab in seconds; 70 epochs of 120 steps of 8 tiles take 40 to 80 minutes
on 2 CPU cores, depending on the day. The learning rate follows a cosine decay over the epochs.
"""

BATCH_SIZE = 8
EPOCHS = 70
LEARNING_RATE = 2e-3
VALIDATION_SPLIT = 0.17  # 4 of the 24 training images, whole

TILE_SIZE = 256
STEPS_PER_EPOCH = 120
AUGMENTATION = 1.0
BASE_FILTERS = 8
DEPTH = 4
TEST_TIME_FLIPS = 2  # the image and its half turn: +0.01 validation AJI, still < 3 s in a browser
