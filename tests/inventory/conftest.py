"""Inventory fixtures: CSV files written from rows."""

import csv

import pytest


@pytest.fixture
def write_csv(tmp_path):
    """write_csv("sims.csv", header, rows) -> path; rows are lists of cells."""

    def write(name, header, rows, delimiter=","):
        path = tmp_path / name
        with path.open("w", newline="") as fh:
            writer = csv.writer(fh, delimiter=delimiter)
            writer.writerow(header)
            writer.writerows(rows)
        return path

    return write
