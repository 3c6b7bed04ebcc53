"""Array-in, array-out image preprocessing: tiling, blur, annotation conversion.

Pure numpy / scipy / scikit-image; never imports TensorFlow.
"""
