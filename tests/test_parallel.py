"""backprop-compare --jobs N: worker processes, reports byte-identical to one process."""

import time

import pytest

from comparisons import cli
from comparisons.core.parallel import run_ordered


def _slow_square(x: int) -> int:
    time.sleep(0.002 * (x % 3))  # finish out of order
    return x * x


def test_results_come_back_in_the_order_of_the_cases():
    assert run_ordered(_slow_square, range(40), jobs=3, quiet=True) == [x * x for x in range(40)]
    assert run_ordered(_slow_square, [], jobs=2, quiet=True) == []


def _reports(tmp_path, name, jobs, *args):
    out = tmp_path / name
    assert cli.main(["--out", str(out), "--jobs", str(jobs), "--quiet", *args]) == 0
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.csv"))}


@pytest.mark.parametrize("args", [["--only", "*relu-mse*", "--parts", "gradients"],
                                  ["--only", "softplus*", "--parts", "components"],
                                  ["--only", "*xor*", "--parts", "trajectories"],
                                  # a dropout control first in one process, later in another
                                  ["--only", "*Dropout*,*Linear*", "--parts", "controls"]])
def test_reports_are_byte_identical_for_one_and_two_jobs(tmp_path, args):
    one = _reports(tmp_path, "one", 1, *args)
    two = _reports(tmp_path, "two", 2, *args)
    assert one and one == two


@pytest.mark.exhaustive
def test_the_whole_main_job_is_byte_identical_for_one_and_two_jobs(tmp_path):
    assert _reports(tmp_path, "one", 1) == _reports(tmp_path, "two", 2)


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_jobs_must_be_a_positive_integer(tmp_path, capsys, value):
    with pytest.raises(SystemExit):
        cli.main(["--out", str(tmp_path), "--jobs", value])
    assert "--jobs" in capsys.readouterr().err
    assert not list(tmp_path.iterdir()), "no work before the error"
