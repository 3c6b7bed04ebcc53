"""The default network, a U-Net, and the wrapper that stores normalisation in any model."""

import contextlib

import keras
from keras import layers

from cellseg.neural_network.targets import get_target


def unet(
    input_shape: tuple = (None, None, 3),
    *,
    target: str = "3class",
    base_filters: int = 16,
    depth: int = 4,
) -> keras.Model:
    """A U-Net (Ronneberger et al. 2015) with batch normalisation.

    Up-convolutions (transposed, stride 2) rather than interpolation keep the network
    working on any image size, and exportable.

    Parameters
    ----------
    input_shape : (rows, columns, channels)
        Rows and columns may be None; images then need sides divisible by ``2**depth``.
    target : {"3class", "mask", "distance", "hover"}
        Sets the number of output channels and their activation (`output_layers`).
    base_filters : int
        Filters of the first level; each level down doubles them.
    depth : int
        Number of poolings.
    """
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    skips = []
    for level in range(depth):
        x = _double_convolution(x, base_filters * 2**level, f"down{level}")
        skips.append(x)
        x = layers.MaxPooling2D(name=f"down{level}_pool")(x)
    x = _double_convolution(x, base_filters * 2**depth, "bottom")
    for level in reversed(range(depth)):
        x = layers.Conv2DTranspose(
            base_filters * 2**level, 2, strides=2, name=f"up{level}_upsample"
        )(x)
        x = layers.Concatenate(name=f"up{level}_skip")([x, skips[level]])
        x = _double_convolution(x, base_filters * 2**level, f"up{level}")
    return keras.Model(inputs, output_layers(x, target), name="unet")


def output_layers(x, target: str):
    """The last layers of a network for ``target``, in float32 whatever the dtype policy.

    A 1 x 1 convolution per part of the target's output, with its activation
    (`cellseg.neural_network.targets.Target.activation`), joined when there are several:
    for ``hover``, the three class probabilities (softmax) then the two centre offsets
    (tanh, -1 to 1).
    """
    parts = [
        layers.Conv2D(channels, 1, activation=activation, name=name, dtype="float32")(x)
        for name, activation, channels in get_target(target).activation
    ]
    if len(parts) == 1:
        return parts[0]
    return layers.Concatenate(name="output", dtype="float32")(parts)


@contextlib.contextmanager
def dtype_policy(name: str):
    """Build layers under Keras' dtype policy ``name`` (``"mixed_bfloat16"``...), then
    restore the process's own: layers keep the policy they were built with."""
    before = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(before)


def with_normalisation(model: keras.Model, mean, std, *, name: str = "cellseg") -> keras.Model:
    """Wrap ``model`` so that it reads raw RGB (0-255) and standardises it itself.

    The per-channel mean and standard deviation of the training images become a
    `keras.layers.Rescaling` layer, ``(x - mean) / std``, saved with the model, so that
    prediction (in Python or in a browser) needs nothing but the model file. Unlike
    `keras.layers.Normalization`, whose statistics are variables, its constants export to
    ONNX as part of the graph.
    """
    rows, columns = model.input_shape[1:3]
    inputs = keras.Input((rows, columns, 3), name="rgb")
    normalise = layers.Rescaling(
        scale=[1.0 / float(s) for s in std],
        offset=[-float(m) / float(s) for m, s in zip(mean, std, strict=True)],
        name="normalise",
    )
    return keras.Model(inputs, model(normalise(inputs)), name=name)


def _double_convolution(x, filters: int, name: str):
    for index in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{index}")(x)
        # Momentum 0.9 (Keras' default is 0.99): with a few hundred steps per run the running
        # statistics used at validation and prediction must follow the weights quickly.
        x = layers.BatchNormalization(momentum=0.9, name=f"{name}_norm{index}")(x)
        x = layers.Activation("relu", name=f"{name}_relu{index}")(x)
    return x
