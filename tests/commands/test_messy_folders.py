"""A lab's folders as they are (a new-user audit): an image given twice, inputs behind links,
links to nothing, subfolders, cut-outs with transparent parts."""

import numpy as np
import pytest
from tables import read_csv

from cellseg.image_io import read_image, write_image
from cellseg.preprocessing.synthetic import synthetic_tissue


@pytest.fixture
def scans(tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    for index in range(2):
        write_image(folder / f"s{index}.png", synthetic_tissue((48, 48), seed=index)[0])
    return folder


def test_an_image_given_in_its_folder_and_by_name_is_taken_once(cellseg, scans, tmp_path):
    """It was counted twice: two rows of counts.csv, its cells twice in cells.csv."""
    result = cellseg("blur", scans, scans / "s1.png", tmp_path / "out")
    assert result.code == 0, result.err
    assert "1 image given more than once, taken once: s1.png" in result.err
    assert "2 images blurred" in result.out
    again = cellseg("blur", scans / "s0.png", scans / ".." / "scans" / "s0.png", tmp_path / "o2")
    assert again.code == 0 and "1 image blurred" in again.out, again.err


def test_an_image_given_twice_is_counted_once(cellseg, models, scans, tmp_path):
    output = tmp_path / "o"
    result = cellseg("predict", models / "first", scans, scans / "s1.png", "--output", output)
    assert result.code == 0, result.err
    assert [row["image"] for row in read_csv(output / "counts.csv")] == ["s0.png", "s1.png"]


def test_an_input_behind_a_link_is_never_written_over(cellseg, scans, tmp_path, folder_digest):
    """A folder of links to the lab's originals: blurring it into the originals' folder
    with --overwrite replaced an original by its blurred copy."""
    links = tmp_path / "links"
    links.mkdir()
    (links / "s0.png").symlink_to(scans / "s0.png")
    before = folder_digest(scans)
    result = cellseg("blur", links, scans, "--overwrite")
    assert result.code == 1
    assert result.error_lines == [
        f"cellseg blur: error: {scans}: holds {scans / 's0.png'}, an input through the link "
        f"{links / 's0.png'}; choose another output folder"
    ]
    assert folder_digest(scans) == before


def test_a_link_to_nothing_is_an_error_naming_it_and_the_rest_is_done(cellseg, scans, tmp_path):
    """A link into a share that is not mounted was passed over in silence, exit code 0."""
    (scans / "unmounted.png").symlink_to(tmp_path / "share" / "missing.png")
    result = cellseg("blur", scans, tmp_path / "out")
    assert result.code == 1
    errors = [line for line in result.error_lines if ": error: " in line]
    assert len(errors) == 1 and str(scans / "unmounted.png") in errors[0], result.err
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["s0.png", "s1.png"]


def test_subfolders_are_named_as_not_looked_into(cellseg, scans, tmp_path):
    (scans / "day 2").mkdir()
    write_image(scans / "day 2" / "inner.png", synthetic_tissue((48, 48), seed=5)[0])
    (scans / ".thumbnails").mkdir()  # hidden: passed over in silence
    result = cellseg("blur", scans, tmp_path / "out")
    assert result.code == 0, result.err
    assert f"cellseg blur: warning: {scans}: 1 subfolder not looked into: day 2" in result.err
    assert ".thumbnails" not in result.err


def test_a_transparent_cut_out_is_glass_not_black(cellseg, tmp_path):
    """Half an image made transparent gives the cells of the other half, as on white: the
    cells under the transparency were counted (an editor keeps their colours, alpha 0), and
    black (where it does not) changed the scale and split nuclei."""
    image, _ = synthetic_tissue((128, 128), seed=3)
    cut_out = np.dstack([image, np.full((128, 128), 255, np.uint8)])
    cut_out[:, 64:, 3] = 0
    on_white = image.copy()
    on_white[:, 64:] = 255
    folder = tmp_path / "in"
    folder.mkdir()
    write_image(folder / "cut_out.png", cut_out)
    write_image(folder / "on_.png", on_white)
    result = cellseg("predict", "default", folder, "--output", tmp_path / "o", "--scale", "1")
    assert result.code == 0, result.err
    cut, white = (read_image(tmp_path / "o" / f"{stem}_labels.png") for stem in ("cut_out", "on_"))
    assert white.max() > 3 and not white[:, 70:].any()
    assert np.array_equal(cut, white)


def test_of_two_images_of_one_name_the_second_is_refused_and_the_rest_predicted(
    cellseg, models, scans, tmp_path
):
    """A folder holding a scan exported twice (a.png and a.tif) was refused whole."""
    write_image(scans / "s0.tif", synthetic_tissue((48, 48), seed=7)[0])
    result = cellseg("predict", models / "first", scans, "--output", tmp_path / "o")
    assert result.code == 1
    errors = [line for line in result.error_lines if ": error: " in line]
    assert errors == [
        f"cellseg predict: error: {scans / 's0.tif'}: has the same name as "
        f"{scans / 's0.png'}, so their outputs would collide; process it separately"
    ]
    assert [row["image"] for row in read_csv(tmp_path / "o" / "counts.csv")] == ["s0.png", "s1.png"]
    assert "not counted" not in result.out


def test_an_ome_tiffs_outputs_are_named_without_ome_and_pair_with_its_annotation(
    cellseg, models, training_data, tmp_path
):
    """``case.ome.tif``'s outputs are ``case_labels.png``, ``case_cells.csv`` (not
    ``case.ome_labels.png``); it clashes with a ``case.png`` beside it; and it pairs with
    the annotation ``case.png`` in evaluate."""
    import tifffile

    folder, annotations = tmp_path / "images", tmp_path / "annotations"
    folder.mkdir(), annotations.mkdir()
    source = sorted((training_data / "images").iterdir())[0]
    tifffile.imwrite(folder / "case.ome.tif", read_image(source), ome=True)
    labels = training_data / "labels" / source.name
    annotations.joinpath("case.png").write_bytes(labels.read_bytes())
    result = cellseg("predict", models / "first", folder, "--output", tmp_path / "o")
    assert result.code == 0, result.err
    written = {path.name for path in (tmp_path / "o").iterdir()}
    assert {"case_labels.png", "case_cells.csv", "case_prediction.json"} <= written
    assert not any(".ome" in name for name in written)
    scored = cellseg(
        "evaluate", models / "first", "--images", folder, "--annotations", annotations,
        "--output", tmp_path / "e.csv",
    )  # fmt: skip
    assert scored.code == 0, scored.err
    write_image(folder / "case.png", read_image(source))
    clash = cellseg("predict", models / "first", folder, "--output", tmp_path / "o2")
    assert "has the same name as" in clash.err and clash.code == 1
