"""Running a command over many files: what it says while it works and when it names them."""

from cellseg import batch
from cellseg.batch import named
from cellseg.errors import CellsegError


def test_a_note_names_three_images_and_counts_the_rest():
    assert named([]) == ""
    assert named(["a.png"]) == "a.png"
    assert named([f"{index}.png" for index in range(3)]) == "0.png, 1.png, 2.png"
    assert named([f"{index}.png" for index in range(250)]) == "0.png, 1.png, 2.png and 247 more"


def test_without_a_terminal_a_line_says_how_far_a_long_run_is(monkeypatch, capsys):
    """A cluster job's log shows no bar: every LOG_EVERY seconds a line says how many items
    are done and the time left; none after the last, where the summary follows. A failed
    item counts as done."""
    monkeypatch.setattr(batch, "LOG_EVERY", 0)

    def process(item):
        if item == 2:
            raise CellsegError("b.png: truncated PNG")

    assert batch.run_each([1, 2, 3], process, command="blur") == 1  # not a terminal here
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(", about")[0] for line in lines] == [
        "cellseg blur: 1 of 3 images",
        "cellseg blur: 2 of 3 images",
    ]
    assert all(line.endswith(" min left") for line in lines)


def test_a_short_run_says_nothing_until_its_summary(capsys):
    assert batch.LOG_EVERY >= 60  # a line a minute at most
    assert batch.run_each([1, 2, 3], lambda item: None, command="blur") == 0
    assert capsys.readouterr().out == ""


def test_an_item_that_fails_shows_its_error_not_the_warnings_before_it(recwarn):
    """tifffile's complaints about a truncated slide's tags, then its error: only the error
    is shown for a failed item; a finished item's warnings are shown, as are others' of a
    failed one."""
    import warnings

    from cellseg.errors import CellsegWarning

    def process(item):
        warnings.warn(CellsegWarning(f"{item}: corrupted tag list"), stacklevel=1)
        warnings.warn(f"{item}: a library's own warning", DeprecationWarning, stacklevel=1)
        if item == "bad.tif":
            raise CellsegError("bad.tif: truncated or corrupt TIFF")

    assert batch.run_each(["good.tif", "bad.tif"], process, command="predict") == 1
    shown = sorted(str(warning.message) for warning in recwarn)
    assert shown == [
        "bad.tif: a library's own warning",
        "good.tif: a library's own warning",
        "good.tif: corrupted tag list",
    ]


def test_when_every_item_fails_the_last_line_says_so(capsys):
    def process(item):
        raise CellsegError(f"{item}: truncated PNG")

    assert batch.run_each(["a.png", "b.png"], process, command="blur") == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1] == "cellseg blur: all 2 images failed, none processed"
