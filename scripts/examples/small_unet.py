"""Example architecture file for `cellseg train --architecture`: a two-level U-Net with one
sigmoid output (train it with `--target mask`).

get_model(input_shape) receives (rows, columns, 3) and returns a keras.Model whose output keeps
the rows and columns. cellseg puts the images' normalisation in front of it. Use standard
Keras layers only: models load in Keras safe mode, which refuses Lambda layers.
"""

import keras
from keras import layers


def get_model(input_shape):
    inputs = keras.Input(input_shape)
    level1 = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    level1 = layers.Conv2D(16, 3, padding="same", activation="relu")(level1)
    level2 = layers.MaxPooling2D()(level1)
    level2 = layers.Conv2D(32, 3, padding="same", activation="relu")(level2)
    level2 = layers.Conv2D(32, 3, padding="same", activation="relu")(level2)
    up = layers.UpSampling2D()(level2)
    merged = layers.Concatenate()([up, level1])
    merged = layers.Conv2D(16, 3, padding="same", activation="relu")(merged)
    outputs = layers.Conv2D(1, 1, activation="sigmoid")(merged)
    return keras.Model(inputs, outputs)
