"""What ``cellseg train`` checks and says: every bad annotation refused at once before a
model folder is made, the labels that check reads handed on to training, and the messages
of a run trained from scratch, of a short run and of a SIGTERM."""

import signal
import sys

import numpy as np
import pytest

from cellseg.annotations import read_annotation_labels
from cellseg.image_io import read_image, write_image
from cellseg.neural_network.dataset import annotated_pairs, prepare
from cellseg.neural_network.label_cache import check_pairs, keep_checked


def test_bad_files_are_all_refused_in_one_line_before_a_model_folder_is_made(
    cellseg, training_data, tiny_hyperparameters, tmp_path
):
    """JPEG annotations, an annotation of another size than its image and an unreadable
    image were found one at a time, after "saving in", which left a model folder
    "stopped by an error" that the same command could not resume."""
    from PIL import Image

    images, annotations = tmp_path / "images", tmp_path / "outlines"
    images.mkdir(), annotations.mkdir()
    for path in sorted((training_data / "images").glob("*.png")):
        (images / path.name).write_bytes(path.read_bytes())
    layers = sorted((training_data / "outlines").glob("*.png"))
    for path in layers[:2]:  # two JPEG annotations
        Image.fromarray(read_image(path)[..., :3]).save(annotations / f"{path.stem}.jpg")
    write_image(annotations / layers[2].name, read_image(layers[2])[:80])  # 96 x 80
    (annotations / layers[3].name).write_bytes(layers[3].read_bytes())
    (images / layers[3].name).write_bytes(b"not a PNG at all")
    models = tmp_path / "models"
    result = cellseg(
        "train", "--images", images, "--annotations", annotations, "--name", "bad",
        "--hyperparameters", tiny_hyperparameters, "--models-dir", models,
    )  # fmt: skip
    assert result.code == 1 and "Traceback" not in result.err, result.err
    assert len(result.error_lines) == 1, result.err
    line = result.error_lines[0]
    assert "4 files cannot be trained on" in line
    for bad in (
        annotations / f"{layers[0].stem}.jpg",
        annotations / f"{layers[1].stem}.jpg",
        annotations / layers[2].name,
        images / layers[3].name,
    ):
        assert str(bad) in line, line
    assert "is a JPEG" in line and "is 96 x 80 pixels" in line
    assert "saving in" not in result.out
    assert not (models / "bad").exists()


def test_the_labels_checked_are_not_read_again(training_data, tmp_path, monkeypatch):
    """The check decodes each annotation, as training must: its labels are kept in the
    cache for `prepare`, and a resumed run's check reads them by their header alone."""
    import cellseg.annotations
    import cellseg.neural_network.dataset

    pairs = annotated_pairs(training_data / "images", training_data / "outlines")
    cache = tmp_path / "cache"
    converted = check_pairs(pairs, cache)
    assert set(converted) == {pair.annotation for pair in pairs}

    def read_again(path, style=None):
        raise AssertionError(f"{path} read again")

    monkeypatch.setattr(cellseg.neural_network.dataset, "read_annotation_labels", read_again)
    keep_checked(pairs, cache, converted)
    prepared, _ = prepare(pairs, cache, target="3class")
    for pair, item in zip(pairs, prepared, strict=True):
        monkeypatch.undo()
        expected = read_annotation_labels(pair.annotation)
        monkeypatch.setattr(cellseg.neural_network.dataset, "read_annotation_labels", read_again)
        assert np.array_equal(read_image(item.labels), expected)
    monkeypatch.setattr(cellseg.annotations, "read_annotation_labels", read_again)
    assert check_pairs(pairs, cache) == {}  # resumed: the cache's headers, nothing decoded


def test_a_model_trained_from_scratch_is_not_said_to_keep_a_calibration(small_model):
    """A new model has no calibration to keep: the warning said "the calibration it had is
    kept" at the end of every small training run."""
    from cellseg.errors import CellsegWarning
    from cellseg.neural_network.model import TrainedModel
    from cellseg.neural_network.tuning import tuned_on
    from cellseg.postprocessing.confidence import Calibration
    from cellseg.preprocessing.synthetic import synthetic_tissue

    model = TrainedModel.load(small_model)
    assert model.config.calibration == Calibration()
    image, labels = synthetic_tissue((64, 64), seed=1)
    with pytest.warns(CellsegWarning) as caught:
        tuned, _ = tuned_on(model, [image], [np.zeros_like(labels)])  # no real cell
    said = " ".join(str(warning.message) for warning in caught)
    assert "too few to calibrate" in said and "uncalibrated" in said
    assert "the calibration it had" not in said
    assert tuned.config.calibration == Calibration()


def test_a_short_run_is_not_said_to_take_0_s(capsys):
    from cellseg.neural_network.callbacks import TimeEstimate

    estimate = TimeEstimate(epochs=2, steps=2, first_epoch=0, batch_size=2, tile=64)
    estimate._ends = [10.0, 10.02]  # two steps of 2 tiles, 0.02 s apart
    estimate.on_epoch_end(0)
    out = capsys.readouterr().out
    assert "about 1 s more of training steps (at 100.0 tiles per second" in out, out
    assert "about 0 s" not in out


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX")
def test_sigterm_is_not_said_to_be_a_ctrl_c(
    training_data, tiny_hyperparameters, tmp_path, monkeypatch, capfd
):
    """A scheduler's SIGTERM stops training after the step it came in, as Ctrl-C does, but
    its message said "(Ctrl-C again stops at once)" although nobody pressed Ctrl-C."""
    import cellseg.neural_network.training as training
    from cellseg.cli import main
    from cellseg.neural_network.callbacks import StopWhenInterrupted

    class SigtermAtFirstStep(StopWhenInterrupted):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 0:
                signal.raise_signal(signal.SIGTERM)
            super().on_train_batch_end(batch, logs)

    monkeypatch.setattr(training, "StopWhenInterrupted", SigtermAtFirstStep)
    before = signal.signal(signal.SIGTERM, signal.SIG_DFL)  # as a job starts
    try:
        code = main(
            ["train", "--images", str(training_data / "images"),
             "--annotations", str(training_data / "outlines"), "--name", "stopped",
             "--hyperparameters", str(tiny_hyperparameters),
             "--models-dir", str(tmp_path / "models")]
        )  # fmt: skip
    finally:
        signal.signal(signal.SIGTERM, before)
    err = capfd.readouterr().err
    assert code == 143, err
    assert "stopping after this step (SIGTERM; another signal stops at once)" in err
    assert "terminated (SIGTERM)" in err
    assert "Ctrl-C again" not in err
