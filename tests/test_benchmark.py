"""The benchmark runs and writes its figures (it measures; no test asserts on speed)."""

import pandas as pd

from comparisons import benchmark


def test_benchmark_writes_both_sides(tmp_path, capsys):
    assert benchmark.main(["--out", str(tmp_path), "--quick"]) == 0
    df = pd.read_csv(tmp_path / "benchmark.csv")
    assert set(df["dtype"]) == {"float32", "float64"}
    assert len(df) == 2 * (len(benchmark.NETWORKS) + len(benchmark.ACTIVATIONS)
                           + len(benchmark.LAYER_WORKLOADS) + 1)  # + attention
    assert (df["manual_ms"] > 0).all() and (df["torch_ms"] > 0).all()
    assert "manual_over_torch" in capsys.readouterr().out
