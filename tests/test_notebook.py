"""The notebooks in ``examples/`` run from top to bottom in a fresh kernel, without an error.

Each notebook checks its own results as it goes (``assert`` cells), so running it is a test of
what it claims; the committed notebooks hold no outputs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).parents[1] / "examples").glob("*.ipynb"))


def test_there_is_a_notebook() -> None:
    assert [p.name for p in NOTEBOOKS] == ["city-analyst.ipynb"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client's, not ours
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_notebook_runs(path: Path, tmp_path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), (
        "commit notebooks without outputs"
    )
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError naming the cell that failed
    texts = [
        out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    ]
    assert any("points outstanding" in t for t in texts)  # the what-if's table was printed
