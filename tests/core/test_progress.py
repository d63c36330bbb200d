import ConfigSpace as CS
import pytest

from bandster.optimizers import HyperBand

from toy_workers import QuadraticWorker


@pytest.mark.timeout(60)
@pytest.mark.parametrize("progress", [True, False, None])
def test_progress_bar_switch(nameserver, run_id, tmp_path, capsys, progress):
    w = QuadraticWorker(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port)
    w.run(background=True)
    hb = HyperBand(configspace=CS.ConfigurationSpace({"x": (0.0, 1.0)}), run_id=run_id, nameserver=nameserver.host,
                   nameserver_port=nameserver.port, min_budget=1, max_budget=9, working_directory=str(tmp_path))
    hb.run(n_iterations=3, progress=progress)
    hb.shutdown(shutdown_workers=True)
    w.shutdown()
    err = capsys.readouterr().err
    if progress:
        # 13 + 4 + 3 runs planned for brackets s = 2, 1, 0 of (1, 9, 3)
        assert "20/20" in err and "HyperBand" in err and "failed=0" in err
    else:  # None: stderr is not a terminal under pytest
        assert "HyperBand" not in err
