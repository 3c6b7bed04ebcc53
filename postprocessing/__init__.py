"""Network outputs and images to cells: instance separation, measurements, classical baseline.

Pure numpy / scipy / scikit-image; never imports TensorFlow.
"""
