"""Worker classes for `bandster worker MODULE:CLASS` tests (importable as ``cmd_scripts.cli_workers``)."""

import os
import time

from bandster.core.worker import Worker

#: read when the module is imported: `--env` must be applied before that
MARK_AT_IMPORT = os.environ.get("BANDSTER_TEST_MARK")
CUDA_AT_IMPORT = os.environ.get("CUDA_VISIBLE_DEVICES")


class EchoWorker(Worker):
    """loss = x / budget; info tells which process ran it, with which constructor arguments and environment."""

    def __init__(self, *args, scale=1.0, sleep=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.scale = scale
        self.sleep = sleep

    def compute(self, config, budget, **kwargs):
        time.sleep(self.sleep)
        return {"loss": self.scale * config["x"] / budget,
                "info": {"pid": os.getpid(), "scale": self.scale, "mark_at_import": MARK_AT_IMPORT, "x": config["x"],
                         "cuda_at_import": CUDA_AT_IMPORT,
                         "host": self.host, "worker": self.worker_id}}


class NotAWorker:
    pass
