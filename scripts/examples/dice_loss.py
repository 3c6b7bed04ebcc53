"""Example loss file for `cellseg train --loss`: binary cross-entropy plus Dice, for a
network with one sigmoid output trained with `--target mask`.

cellseg calls custom_loss(y_true, y_pred) on batches shaped (batch, rows, columns, channels),
y_true shaped like y_pred; write it with keras.ops so it runs on every backend.
custom_metric is optional and is reported for training and validation in history.csv.
"""

from keras import ops


def custom_loss(y_true, y_pred):
    y_pred = ops.clip(y_pred, 1e-6, 1 - 1e-6)
    cross_entropy = -ops.mean(y_true * ops.log(y_pred) + (1 - y_true) * ops.log(1 - y_pred))
    return cross_entropy + (1 - custom_metric(y_true, y_pred))


def custom_metric(y_true, y_pred):
    intersection = ops.sum(y_true * y_pred)
    return (2 * intersection + 1) / (ops.sum(y_true) + ops.sum(y_pred) + 1)
