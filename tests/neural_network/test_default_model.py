"""The model shipped with cellseg: loads safely, is small, and finds real cells.

The real-data test scores it on the MoNuSeg images held out from its training
(scripts/default_model/held_out_images.txt); it is skipped without ../shared.
"""

from pathlib import Path

import numpy as np
import pytest

from cellseg.errors import CellsegError
from cellseg.image_io import read_image
from cellseg.metrics import image_scores
from cellseg.neural_network.evaluation import mean_scores
from cellseg.neural_network.model import TrainedModel
from cellseg.neural_network.model_folder import bundled_models, load_network
from cellseg.postprocessing.classical import classical_segmentation

HELD_OUT = Path(__file__).resolve().parents[2] / "scripts" / "default_model" / "held_out_images.txt"
#: The shipped model reaches an AJI of 0.568 on these images at scale 1 (model card); a
#: retrained or replaced default must not fall much below that (runs of its recipe differ by
#: about 0.01). Issue 4 aims at 0.62, not reached yet.
AJI_FLOOR = 0.55


@pytest.fixture(scope="module")
def default():
    return TrainedModel.load("default")


def test_default_model_is_bundled_small_and_loads_in_safe_mode(default):
    folder, model, config = default.folder, default.network, default.config
    assert folder.path.resolve() == (bundled_models() / "default").resolve()
    size = sum(path.stat().st_size for path in folder.path.rglob("*") if path.is_file())
    assert size <= 25 * 1024 * 1024
    assert config.status == "finished" and config.target == "3class"
    assert model.output_shape[-1] == 3 and (folder.path / "README.md").is_file()
    for key in ("thresholds", "validation", "normalisation", "training", "libraries"):
        assert getattr(config, key), key
    # The last epoch's network loads the same way, and is another network than the best.
    last = load_network(folder, folder.model_path)
    assert last.count_params() == model.count_params()
    assert any(
        not np.array_equal(kept, other)
        for kept, other in zip(model.get_weights(), last.get_weights(), strict=True)
    )
    with pytest.raises(CellsegError, match="missing"):
        load_network(folder, folder.path / "absent.keras")


@pytest.mark.real_data
def test_default_model_on_held_out_tissue(default, datasets):
    """Above the AJI floor, and better than the classical pipeline on the same images."""
    names = [
        line.strip()
        for line in HELD_OUT.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    folder = datasets / "monuseg" / "train"
    model_rows, classical_rows = [], []
    for name in names:
        truth = read_image(folder / "labels" / f"{name}.png")
        image = read_image(folder / "images" / f"{name}.png")
        model_rows.append(image_scores(truth, default.segment(image, scale=1).labels))
        classical_rows.append(image_scores(truth, classical_segmentation(image)))
    model_mean, classical_mean = mean_scores(model_rows), mean_scores(classical_rows)
    print({key: round(value, 3) for key, value in model_mean.items()})
    assert model_mean["aji"] >= AJI_FLOOR
    for key in ("aji", "f1", "panoptic_quality", "dice"):
        assert model_mean[key] > classical_mean[key], key
    assert model_mean["count_error"] < classical_mean["count_error"]


@pytest.mark.real_data
def test_default_model_strengthens_a_pale_counterstain(default, datasets):
    """Held-out H&E made a pale haematoxylin + DAB section (eosin re-coloured as DAB, the
    haematoxylin at 30%): strengthening the counterstain to the training images' finds the
    nuclei the pale image hides, and leaves the H&E image as it is."""
    from cellseg.preprocessing.colour import rgb_from_stain_amounts, stain_amounts

    name = HELD_OUT.read_text().split()[-1]
    folder = datasets / "monuseg" / "train"
    image = read_image(folder / "images" / f"{name}.png")[:512, :512, :3]
    truth = read_image(folder / "labels" / f"{name}.png")[:512, :512]
    stains = stain_amounts(image / np.float32(255))
    stains[..., 0] *= 0.3
    stains[..., 1:] = stains[..., 1:2] * np.float32([0, 4])
    pale = np.rint(rgb_from_stain_amounts(stains) * 255).astype(np.uint8)
    assert default.segment(image, scale=1).counterstain == 1
    strengthened = default.segment(pale, scale=1)
    left = default.with_config(haematoxylin=None).segment(pale, scale=1)
    assert strengthened.counterstain > 1.5 and left.counterstain == 1
    scores = [image_scores(truth, cells.labels) for cells in (strengthened, left)]
    print([{key: round(row[key], 3) for key in ("aji", "count_error")} for row in scores])
    assert scores[0]["aji"] > scores[1]["aji"] + 0.03
    assert scores[0]["count_error"] < scores[1]["count_error"]


def test_the_shipped_haematoxylin_reference_is_what_its_training_images_give(default, datasets):
    """`scripts/default_model/tune.py` gives the shipped `haematoxylin` again: the lowest and
    median strength of the model's own training images, as `cellseg train` measures them."""
    from cellseg.preprocessing.colour import counterstain_reference, counterstain_strength

    folder = datasets / "monuseg" / "train" / "images"
    names = [
        entry["image"] for entry in default.config.training_files if entry["split"] == "training"
    ]
    strengths = [counterstain_strength(read_image(folder / name))[0] for name in names]
    assert len(names) == 20
    assert default.config.haematoxylin == counterstain_reference(strengths)
