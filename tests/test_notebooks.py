"""The notebooks of notebooks/ are generated from manual/ (never stale), and each runs top
to bottom with nbclient: every lesson shows its plot inline and ends checked against torch;
the assignment's solution passes its grading cell and a planted slip fails it, named."""

import re

import nbformat
import pytest

nbclient = pytest.importorskip("nbclient", reason="nbclient is in the dev extra")

from comparisons.teaching import notebooks as nb  # noqa: E402
from manual.lessons import LESSONS  # noqa: E402

GENERATED = nb.notebooks()


def _run(notebook, tmp_path):
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    return notebook


def test_every_lesson_and_the_assignment_have_a_notebook():
    assert set(GENERATED) == {*LESSONS, nb.ASSIGNMENT}
    assert sorted(p.stem for p in nb.NOTEBOOKS.glob("*.ipynb")) == sorted(GENERATED)


@pytest.mark.parametrize("stem", sorted(GENERATED))
def test_the_notebook_is_generated_not_edited(stem):
    on_disk = (nb.NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8")
    assert on_disk == nbformat.writes(GENERATED[stem]) + "\n", (
        f"notebooks/{stem}.ipynb is stale: run python -m comparisons.teaching.notebooks")


def test_a_lesson_notebook_holds_the_module_code_once():
    from manual.lessons import network_321

    code = "\n".join(c.source for c in GENERATED["network_321"].cells if c.cell_type == "code")
    assert "def seed_network(" in code and code.count("def seed_network(") == 1
    assert "main_for(" not in code and "__name__" not in code  # the CLI entry left out
    assert network_321.TITLE.split(":")[0] in GENERATED["network_321"].cells[0].source


@pytest.mark.parametrize("name", LESSONS)
def test_a_lesson_notebook_runs_shows_its_plot_and_checks_torch(name, tmp_path):
    ran = _run(nbformat.from_dict(GENERATED[name]), tmp_path)
    outputs = [o for c in ran.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs), "no plot shown inline"
    last = ran.cells[-1]
    assert last.source.startswith("import pandas") and not any(
        o.get("output_type") == "error" for o in last.outputs)


def test_the_assignment_is_an_exercise_its_solution_passes_and_a_slip_fails(tmp_path):
    exercise = GENERATED[nb.ASSIGNMENT]
    code = "\n".join(c.source for c in exercise.cells if c.cell_type == "code")
    assert "# YOUR CODE HERE" in code and "x.T @ dz" not in code  # the answer is not given
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="NotImplementedError"):
        _run(nbformat.from_dict(exercise), tmp_path)
    _, solution = nb.solution_source()
    _run(nb.assignment_notebook(solution), tmp_path)  # the grading cell passes
    slip = solution.replace("dz.sum(axis=0)", "dz.mean(axis=0)")
    assert slip != solution
    with pytest.raises(nbclient.exceptions.CellExecutionError) as caught:
        _run(nb.assignment_notebook(slip), tmp_path)
    assert re.search(r"likely slip: your db is 1/4 of the true gradient", str(caught.value))
