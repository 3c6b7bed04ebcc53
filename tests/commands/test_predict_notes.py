"""What predict says it did to some images: one line per kind of change, however many
images, and grouped so that a folder of images enlarged alike is one short note."""

from cellseg.commands.scaling import notes

SUREST = "the cells the network is surest of"


def test_images_resized_alike_share_one_group_in_one_line():
    resized = {f"{index}.png": (2.0, SUREST) for index in range(100)}
    resized |= {"slide.svs": (2.0, "0.5 um pixels, the model's 0.25"), "big.png": (0.5, SUREST)}
    enlarged, shrunk = notes(resized, {}, {})
    assert enlarged == (
        "images of smaller cells than the model's, enlarged before the network (--scale auto): "
        f"2x from {SUREST} (0.png, 1.png, 2.png and 97 more); "
        "2x from 0.5 um pixels, the model's 0.25 (slide.svs); --scale sets it yourself"
    )
    assert shrunk.startswith("images of larger cells than the model's, shrunk")
    assert shrunk.endswith(f"0.5x from {SUREST} (big.png); --scale sets it yourself")


def test_strengthened_and_ignored_images_are_a_line_each_and_nothing_is_said_of_none():
    assert notes({}, {}, {}) == []
    strengthened = {f"{index}.png": 2.5 for index in range(5)}
    pale, ignored = notes({}, strengthened, {"screen.png": 352.8})
    assert pale.endswith(": 0.png x2.5, 1.png x2.5, 2.png x2.5 and 2 more")
    assert "screen.png 353 um" in ignored and ignored.endswith("--pixel-size UM gives the real one")


def test_an_image_another_process_took_over_is_named_not_left_out(
    cellseg, models, training_data, tmp_path, monkeypatch
):
    """Two predicts into one folder: the second's claim on an image the first had finished
    left it out of the first's table and summary without a word."""
    from cellseg.prediction_files import PredictionFiles

    add = PredictionFiles.add

    def add_then_taken_over(self, name, *arguments, **options):
        add(self, name, *arguments, **options)
        if name == "synthetic_001.png":  # as another process claiming it would leave it
            self._write_record(name, None, complete=False)

    monkeypatch.setattr(PredictionFiles, "add", add_then_taken_over)
    images = training_data / "images"
    result = cellseg("predict", models / "first", images, "--output", tmp_path / "out")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[-2] == (
        f"cellseg predict: 1 image not counted, its results unfinished in {tmp_path / 'out'} "
        "(another process predicting into it?): synthetic_001.png"
    )
    assert " in 3 images; results in " in lines[-1]


def test_images_of_the_folder_predicted_otherwise_are_named_left_out_of_the_tables(
    cellseg, models, training_data, tmp_path
):
    images, output = training_data / "images", tmp_path / "out"
    first = cellseg("predict", models / "first", images / "synthetic_000.png", "--output", output)
    assert first.code == 0, first.err
    again = cellseg("predict", models / "first", images / "synthetic_001.png", "--output", output)
    assert "leave out" not in again.out  # the same settings: both in the tables
    other = cellseg(
        "predict", models / "first", images / "synthetic_002.png", "--output", output,
        "--scale", "2",
    )  # fmt: skip
    assert other.code == 0, other.err
    assert (
        f"cellseg predict: counts.csv and cells.csv leave out 2 images predicted in {output} "
        "with another model or settings, whose own files are kept: synthetic_000.png, "
        "synthetic_001.png"
    ) in other.out


def test_another_minimum_confidence_leaves_the_counts_interval_blank_and_says_why(
    cellseg, models, training_data, tmp_path
):
    """The count's interval is widened by the count error the model measured at its own
    minimum confidence: at another one (cells dropped, or kept, that its count never had)
    it is no interval of the nuclei, so it is left blank, in a line; at its own, kept."""
    import json

    from tables import read_csv

    own = json.loads((models / "first" / "config.json").read_text())["thresholds"]
    own = own["min_confidence"]
    image = training_data / "images" / "synthetic_000.png"
    for given, kept in ((own, True), (min(own + 0.3, 1.0), False)):
        output = tmp_path / f"out{given}"
        run = cellseg(
            "predict", models / "first", image, "--output", output,
            "--min-confidence", str(given),
        )  # fmt: skip
        assert run.code == 0, run.err
        [row] = read_csv(output / "counts.csv")
        said = [line for line in run.out.splitlines() if "left blank" in line]
        if kept:
            assert row["count_low"] and row["count_high"] and not said
        else:
            assert row["count_low"] == row["count_high"] == "" and row["expected"]
            assert said == [
                "cellseg predict: count_low and count_high left blank: the count's interval "
                f"holds at the model's own minimum confidence, {own:g}, where its count "
                f"error was measured, not at --min-confidence {given:g}"
            ]


def test_dark_background_images_are_named_as_unlike_what_the_model_learned(
    cellseg, models, training_data, tmp_path
):
    """A fluorescence image (dark background) given to a model that learned brightfield
    stains is counted, and named in a line saying its count is not to be trusted; the
    brightfield ones are not named."""
    from cellseg.image_io import read_image, write_image

    folder = tmp_path / "images"
    folder.mkdir()
    bright = read_image(training_data / "images" / "synthetic_000.png")
    write_image(folder / "bright.png", bright)
    write_image(folder / "fluo.png", (255 - bright) // 3)
    result = cellseg("predict", models / "first", folder, "--output", tmp_path / "o")
    assert result.code == 0, result.err
    [line] = [line for line in result.out.splitlines() if "dark background" in line]
    assert ": fluo.png; fine-tune it" in line and "bright.png" not in line


def test_a_slide_seen_whole_says_why_and_names_no_flag_not_given():
    """A fluorescence slide, whose tissue is not told from glass by colour, is seen
    whole: its line said "(--all-regions)", a flag no one gave."""
    from pathlib import Path
    from types import SimpleNamespace

    from cellseg.commands.predict import slide_line

    slide = SimpleNamespace(shape=(2048, 2048), scale=1.0, tissue=None, region_count=9)
    seen = slide_line(Path("fluo.ome.tif"), slide, 0.325, "why", tissue_only=True)
    assert seen.endswith("all 9 regions (a grey or dark-background slide, whose tissue is "
                         "not told from glass by colour)")  # fmt: skip
    asked = slide_line(Path("fluo.ome.tif"), slide, 0.325, "why", tissue_only=False)
    assert asked.endswith("all 9 regions (--all-regions)")


def test_a_share_without_images_says_so(cellseg, models, training_data, tmp_path):
    """A job array of more tasks than images: the tasks past the images said nothing, and
    their logs were empty."""
    images = training_data / "images"
    result = cellseg(
        "predict", models / "first", images, "--output", tmp_path / "o", "--shard", "7/8"
    )
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "cellseg predict: share 7 of 8 holds no image (4 images in all); nothing to do"
    ]
