"""Reading the tables commands write."""

import csv


def read_csv(path) -> list[dict]:
    """The rows of a CSV file, each a dict of its header's names."""
    with open(path, newline="") as file:
        return list(csv.DictReader(file))
