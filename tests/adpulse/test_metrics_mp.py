import os
import subprocess
import sys
import textwrap
import types

import pytest

from adpulse import metrics_mp

WORKER = textwrap.dedent(
    """
    import sys
    from prometheus_client import Counter, Gauge
    Counter("adpulse_test_hits", "hits", ["kind"]).labels("hit").inc(int(sys.argv[1]))
    Gauge("adpulse_test_pending", "pending", multiprocess_mode="livesum").set(5)
    """
)


def run_worker(directory, count):
    env = {**os.environ, metrics_mp.ENV: str(directory)}
    subprocess.run([sys.executable, "-c", WORKER, str(count)], env=env, check=True, timeout=60)


def test_render_sums_every_worker_and_forgets_dead_ones_live_gauges(tmp_path, monkeypatch):
    run_worker(tmp_path, 3)
    run_worker(tmp_path, 4)
    assert len(list(tmp_path.glob("counter_*.db"))) == 2
    monkeypatch.setenv(metrics_mp.ENV, str(tmp_path))
    text = metrics_mp.render().decode()
    assert 'adpulse_test_hits_total{kind="hit"} 7.0' in text
    # Both workers exited: their live gauges no longer count (files removed on the next read).
    assert not list(tmp_path.glob("gauge_live*"))
    assert "adpulse_test_pending 5" not in text


def test_render_without_multiprocess_dir_is_this_process_registry(monkeypatch):
    monkeypatch.delenv(metrics_mp.ENV, raising=False)
    assert b"python_info" in metrics_mp.render()


def test_directory_is_exported_before_metrics_exist_and_removed_after(tmp_path):
    script = textwrap.dedent(
        """
        import os, sys
        from adpulse.metrics_mp import ENV, multiprocess_dir
        with multiprocess_dir() as path:
            from prometheus_client import Counter, values
            Counter("adpulse_x", "x").inc()
            print(path, os.environ[ENV] == str(path), values.ValueClass.__name__, sorted(os.listdir(path)))
        print(path.exists(), ENV in os.environ)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != metrics_mp.ENV} | {"TMPDIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    inside, after = out.stdout.splitlines()
    path, exported, value_class, files = inside.split(" ", 3)
    assert path.startswith(str(tmp_path)) and exported == "True"
    assert value_class == "MmapedValue"
    assert "counter_" in files
    assert after == "False False"


def test_refuses_when_metrics_were_already_created(monkeypatch):
    monkeypatch.setitem(sys.modules, "ingest.metrics", types.ModuleType("ingest.metrics"))
    with pytest.raises(RuntimeError, match="before the multiprocess directory"), metrics_mp.multiprocess_dir():
        pass
