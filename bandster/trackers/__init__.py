"""Experiment trackers as result callbacks (install the ``trackers`` extra: ``pip install 'bandster[trackers]'``).

:class:`~bandster.trackers.tensorboard.TensorBoardCallback` and
:class:`~bandster.trackers.mlflow_tracker.MLflowCallback`, also importable from :mod:`bandster.callbacks`. Their
packages are imported on the first result, never by importing bandster; a tracker that fails logs why and never
stops the optimization.
"""

from bandster.trackers.mlflow_tracker import MLflowCallback
from bandster.trackers.tensorboard import TensorBoardCallback

__all__ = ["TensorBoardCallback", "MLflowCallback"]
