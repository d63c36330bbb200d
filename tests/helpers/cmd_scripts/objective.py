"""A --command test program in Python: ``objective.py CONFIG BUDGET WORKDIR RESULT``.

Writes JSON ``{"loss": ..., "info": ...}`` where info echoes what the program was given. Mode by environment:
``OBJ_MODE=fail`` exits with status 3 after printing to both streams, ``OBJ_MODE=garbled`` writes nonsense,
``OBJ_MODE=none`` writes no result, ``OBJ_MODE=sleep`` sleeps ``OBJ_SLEEP`` seconds first.
"""

import json
import os
import sys
import time


def main(argv):
    config_path, budget, workdir, result = argv
    mode = os.environ.get("OBJ_MODE", "ok")
    if mode == "sleep":
        time.sleep(float(os.environ.get("OBJ_SLEEP", "1")))
    with open(config_path) as fh:
        config = json.load(fh)
    if mode == "fail":
        print("some progress on stdout")
        print(f"Traceback: something broke at budget {budget}", file=sys.stderr)
        return 3
    if mode == "none":
        return 0
    with open(result, "w") as fh:
        if mode == "garbled":
            fh.write("loss is low, trust me")
            return 0
        env = {k: v for k, v in os.environ.items() if k.startswith("BANDSTER_") and k != "BANDSTER_SECRET"}
        json.dump({"loss": (config["x"] - 0.3) ** 2 + 1.0 / float(budget),
                   "info": {"argv": argv, "config": config, "env": env, "pid": os.getpid(),
                            "workdir_is_dir": os.path.isdir(workdir), "mark": os.environ.get("BANDSTER_TEST_MARK")}},
                  fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
