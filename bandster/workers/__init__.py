"""Ready-made workers.

* :class:`~bandster.workers.command.CommandWorker` evaluates each configuration by running a shell command
  (a program in any language); ``bandster worker --command '...'`` runs one.
"""

from bandster.workers.command import CommandWorker

__all__ = ["CommandWorker"]
