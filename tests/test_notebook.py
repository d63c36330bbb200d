"""examples/analysis.ipynb executes from top to bottom (nbclient, a real kernel) against a run the test makes."""

from __future__ import annotations

import os

import pytest
from analysis_helpers import make_run

from bandster.optimizers import BOHB

HERE = os.path.dirname(os.path.abspath(__file__))
NOTEBOOK = os.path.join(os.path.dirname(HERE), "examples", "analysis.ipynb")


@pytest.mark.timeout(600)
def test_analysis_notebook_executes(tmp_path, run_id, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    journal = make_run(BOHB, str(tmp_path / "run"), run_id, n_iterations=3)
    # the working directory is enough: the notebook takes its newest journal
    monkeypatch.setenv("BANDSTER_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, if any cell fails

    texts, images = [], 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", output
            if output.get("output_type") == "stream":
                texts.append(output["text"])
            data = output.get("data", {})
            texts.append(data.get("text/plain", ""))
            images += "image/png" in data
    text = "\n".join(texts)
    assert f"journal: {journal}" in text
    assert "results.pkl matches the journal: True" in text
    assert "incumbent: (" in text and "FINISHED" in text
    per_cell = [sum("image/png" in o.get("data", {}) for o in c.get("outputs", [])) for c in notebook.cells]
    assert images == 11, str(per_cell)  # every plot of the walk-through was drawn
    assert os.path.exists(os.path.join(journal, "report.html"))
