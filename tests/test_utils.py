"""``bandster.utils``: HpBandSter's helpers, for code ported with its imports renamed (issue 11, item 12)."""

import ConfigSpace as CS
import pytest

from bandster.optimizers import RandomSearch
from bandster.utils import nic_name_to_host, start_local_nameserver, stop_local_nameservers

from toy_workers import QuadraticWorker


def test_nic_name_to_host():
    assert nic_name_to_host("lo") == "127.0.0.1"
    with pytest.raises(ValueError, match="no network interface 'nosuchnic0'"):
        nic_name_to_host("nosuchnic0")


@pytest.mark.timeout(60)
def test_start_local_nameserver_serves_a_run(run_id, tmp_path, no_thread_leak):
    host, port = start_local_nameserver()
    try:
        assert host == "127.0.0.1" and isinstance(port, int) and port > 0
        worker = QuadraticWorker(run_id=run_id, nameserver=host, nameserver_port=port)  # its secret is found
        worker.run(background=True)
        opt = RandomSearch(configspace=CS.ConfigurationSpace({"x": (0.0, 1.0)}), run_id=run_id, nameserver=host,
                           nameserver_port=port, working_directory=str(tmp_path), min_budget=1, max_budget=1)
        result = opt.run(n_iterations=1)
        opt.shutdown(shutdown_workers=True)
        worker.shutdown()
        assert len(result.get_all_runs()) == 1
    finally:
        stop_local_nameservers()
