"""Import TensorFlow without its start-up chatter.

TensorFlow 2.21 writes C++ log lines while it loads (oneDNN notes, CUDA probing on a machine
without a GPU) before it reads TF_CPP_MIN_LOG_LEVEL, so no setting hides them. The commands
that need TensorFlow import it here, with the process's standard error pointed at
/dev/null for the import only; errors still surface as Python exceptions. Set
TF_CPP_MIN_LOG_LEVEL to 0 or 1 to see every line. Under another Keras backend
(KERAS_BACKEND=jax or torch, on a GPU machine without TensorFlow) nothing is imported.
"""

import os
import sys


def import_tensorflow():
    """Import and return ``tensorflow``, quietly unless TF_CPP_MIN_LOG_LEVEL asks for logs.

    Returns None, importing nothing, when KERAS_BACKEND names another backend.
    """
    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        return None
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    if os.environ["TF_CPP_MIN_LOG_LEVEL"] in ("0", "1"):
        import tensorflow

        return tensorflow
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return tensorflow
