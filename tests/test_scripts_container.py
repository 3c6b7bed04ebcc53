"""The Dockerfile copies everything `pip install .` needs, as pyproject.toml lays it out."""

import tomllib
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]


def dockerfile_instructions(text: str) -> list[tuple[str, list[str]]]:
    """The Dockerfile's instructions as (KEYWORD, words), continuation lines joined."""
    instructions, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        keyword, *words = current.split()
        instructions.append((keyword.upper(), words))
        current = ""
    return instructions


def copied_before_install(text: str) -> dict[PurePosixPath, PurePosixPath]:
    """Where each COPY before `pip install .` puts its sources: {source in the build
    context: path in the folder pip installs from}, a folder standing for all inside it."""
    copied, workdir = {}, None
    for keyword, words in dockerfile_instructions(text):
        if keyword == "WORKDIR":
            workdir, copied = words[0], {}  # what pip installs is in the last WORKDIR
        elif keyword == "COPY":
            assert not any(word.startswith("--from") for word in words)
            *sources, destination = [word for word in words if not word.startswith("--")]
            into_folder = destination.endswith("/") or len(sources) > 1
            for source in sources:
                source = PurePosixPath(source)
                folder = (ROOT / source).is_dir()  # a folder's contents go to the destination
                target = PurePosixPath(destination)
                if into_folder and not folder:
                    target /= source.name
                copied[source] = target
        elif keyword == "RUN" and "pip install" in " ".join(words):
            assert "." in words, words  # it installs the folder the COPYs filled
            assert workdir is not None
            return copied
    raise AssertionError("no RUN pip install . in the Dockerfile")


def is_copied(path: str, copied: dict[PurePosixPath, PurePosixPath]) -> bool:
    """Whether ``path`` of the repository lands at the same path where pip builds."""
    path = PurePosixPath(path)
    for source, target in copied.items():
        if path == source or source in path.parents:
            if PurePosixPath(".") / target == PurePosixPath(".") / source:  # ./x is x
                return True
    return False


def test_the_dockerfile_copies_every_folder_pyproject_maps():
    """`docker build` once failed: "package directory 'scripts/examples' does not exist"."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    setuptools = pyproject["tool"]["setuptools"]
    needed = ["pyproject.toml", pyproject["project"]["readme"]]
    needed += setuptools["package-dir"].values()
    # A package not mapped lives in its parent's folder, or its dotted path.
    for package in setuptools["packages"]:
        parent = package
        while parent not in setuptools["package-dir"] and "." in parent:
            parent = parent.rpartition(".")[0]
        if parent not in setuptools["package-dir"]:
            needed.append(package.replace(".", "/"))
    copied = copied_before_install((ROOT / "Dockerfile").read_text())
    missing = [path for path in needed if not is_copied(path, copied)]
    assert not missing, f"the Dockerfile does not COPY {missing} before pip install ."
    for path in needed:
        assert (ROOT / path).exists(), path


def test_the_check_reads_copies_as_docker_does():
    copied = copied_before_install(
        "FROM x\nWORKDIR /opt\nCOPY pyproject.toml README.md ./\nCOPY cellseg ./cellseg\n"
        "COPY scripts/examples ./\nCOPY --chown=1:1 trained_models \\\n  trained_models\n"
        "RUN pip install --no-cache-dir . \\\n    && true\n"
    )
    assert is_copied("README.md", copied) and is_copied("cellseg/commands", copied)
    assert is_copied("trained_models", copied)
    assert not is_copied("scripts/examples", copied)  # its files land in ./, not in place
    assert not is_copied("neural_network", copied)


def test_run_container_mounts_the_models_folder_cellseg_would_use(tmp_path):
    """Run from a subfolder of a project with trained_models/, the container sees that
    folder as its models folder (it made and mounted ./trained_models/ of the subfolder,
    where no model was, and trained ones landed); $CELLSEG_MODELS wins."""
    import os
    import subprocess

    from fake_commands import fake_command, recorded_calls

    bin_folder = tmp_path / "bin"
    calls = fake_command(bin_folder, "docker")
    project = tmp_path / "project"
    (project / "trained_models" / "lab").mkdir(parents=True)
    (project / "data" / "sub").mkdir(parents=True)
    environment = {**os.environ, "PATH": f"{bin_folder}:{os.environ['PATH']}"}
    environment.pop("CELLSEG_MODELS", None)

    def mounts(**variables) -> list[str]:
        run = subprocess.run(
            ["bash", str(ROOT / "run_container.sh"), "leaderboard"],
            cwd=project / "data" / "sub", env={**environment, **variables},
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        words = recorded_calls(calls)[-1]
        return [
            words[index + 1] for index, word in enumerate(words) if word in ("--volume", "--env")
        ]

    found = mounts()
    assert f"{(project / 'trained_models').resolve()}:/models" in found
    assert "CELLSEG_MODELS=/models" in found
    assert not (project / "data" / "sub" / "trained_models").exists()
    chosen = tmp_path / "elsewhere"
    assert f"{chosen.resolve()}:/models" in mounts(CELLSEG_MODELS=str(chosen))
