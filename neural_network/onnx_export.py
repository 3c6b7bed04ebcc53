"""Convert a trained network to ONNX, the format ONNX Runtime (Web) runs."""

import warnings
from pathlib import Path

import numpy as np

from cellseg.errors import CellsegError


def export_onnx(model, path) -> None:
    """Write ``model`` to ``path`` as ONNX (Keras 3 export, through tf2onnx).

    Networks that accept any size keep their rows and columns free in the ONNX graph.
    """
    import keras

    rows, columns = model.input_shape[1:3]
    signature = [keras.InputSpec(shape=(None, rows, columns, 3), dtype="float32")]
    try:
        with warnings.catch_warnings():
            # Keras' tf2onnx patch probes np.object (keras/src/export/tf2onnx_lib.py): a
            # warning for Keras' developers, not for the user exporting a model.
            warnings.filterwarnings("ignore", "In the future `np.object`", FutureWarning)
            model.export(str(path), format="onnx", input_signature=signature, verbose=False)
    except ImportError as error:
        raise CellsegError(f"exporting to ONNX needs tf2onnx and onnx ({error})") from None


def largest_difference(model, path, *, side: int = 64, seed: int = 0) -> float:
    """Largest absolute difference between Keras and ONNX Runtime on a random image.

    Returns NaN when onnxruntime is not installed.
    """
    try:
        import onnxruntime
    except ImportError:
        return float("nan")
    rows, columns = model.input_shape[1:3]
    shape = (1, rows or side, columns or side, 3)
    image = np.random.default_rng(seed).uniform(0, 255, shape).astype(np.float32)
    session = onnxruntime.InferenceSession(str(Path(path)), providers=["CPUExecutionProvider"])
    onnx_output = session.run(None, {session.get_inputs()[0].name: image})[0]
    return float(np.abs(onnx_output - np.asarray(model.predict_on_batch(image))).max())
