"""Keras 3 (TensorFlow) networks: training, prediction and their losses."""
