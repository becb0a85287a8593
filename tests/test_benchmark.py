"""The benchmark runs and writes its figures (it measures; no test asserts on speed)."""

import numpy as np
import pandas as pd
import pytest

from comparisons.bench import benchmark


def test_benchmark_writes_both_sides(tmp_path, capsys):
    assert benchmark.main(["--out", str(tmp_path), "--quick", "--quiet", "--threads", "1"]) == 0
    df = pd.read_csv(tmp_path / "benchmark.csv")
    assert set(df["dtype"]) == {"float32", "float64"}
    assert len(df) == sum(len(c.dtypes) for c in benchmark.bench_cases())
    assert (df["manual_ms"] > 0).all() and (df["torch_ms"] > 0).all()
    assert (df["numpy_peak_gflops"] > 0).all() and (df["torch_peak_gflops"] > 0).all()
    mlp = df[df["case"].str.startswith("mlp 784")]
    assert (mlp["manual_peak_fraction"] > 0).all()
    assert (df["ratio_q25"] <= df["manual_over_torch"]).all()
    out = capsys.readouterr().out
    assert "manual_over_torch" in out and "GFLOP/s" in out


def test_benchmark_case_table_takes_new_entries(tmp_path):
    """A family adds a row by appending one BenchCase: here a throwaway case."""
    def make(dtype, batch):
        a = np.ones((batch, 8), dtype=dtype)
        return benchmark.Workload(lambda: a.sum(), lambda: a.sum(), flops=8.0 * batch)

    case = benchmark.BenchCase("sum", make, lambda dtype, batch: 64.0 * batch)
    df = benchmark.run_benchmark(repeats=1, batch=4, matmul_n=16, cases=[case])
    assert list(df["case"]) == ["sum", "sum"] and list(df["dtype"]) == ["float64", "float32"]


def test_benchmark_too_large_is_refused_before_work(capsys):
    with pytest.raises(SystemExit):
        benchmark.main(["--batch", str(10 ** 12), "--out", "/nonexistent/never-written"])
    assert "memory is available" in capsys.readouterr().err


@pytest.mark.parametrize("arg", [["--repeats", "0"], ["--batch", "-1"], ["--threads", "-2"]])
def test_benchmark_rejects_bad_numbers(arg):
    with pytest.raises(SystemExit):
        benchmark.main(arg)
