"""The Dagster daemon's sensor loop, one iteration at a time, against a real instance.

`dagster dev` runs exactly this: the code location in a code server subprocess, each
sensor's state (cursor, run keys) in the instance, runs launched through the instance. The
test instance launches runs synchronously in this process, so a tick returns once its runs
have finished. Private Dagster test helpers (no public equivalent); pinned by
`dagster>=1.13,<1.14`. Time is frozen and moved on by a minute per tick, past every
sensor's minimum interval.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg
from dagster._core.test_utils import create_test_daemon_workspace_context, freeze_time
from dagster._core.workspace.load_target import ModuleTarget
from dagster._daemon.sensor import execute_sensor_iteration

ROOT = Path(__file__).resolve().parents[2]
LOCATION = "aegis_assets.definitions"


@contextmanager
def sensor_daemon(instance: dg.DagsterInstance) -> Iterator[Callable[[], None]]:
    """`tick()`: one iteration of every sensor of the code location, as the daemon does."""
    target = ModuleTarget(
        module_name=LOCATION, attribute=None, working_directory=str(ROOT), location_name=LOCATION
    )
    now = [time.time()]
    with create_test_daemon_workspace_context(target, instance) as workspace:

        def tick() -> None:
            now[0] += 60
            with ExitStack() as stack:
                stack.enter_context(freeze_time(now[0]))
                for error in execute_sensor_iteration(
                    workspace, logging.getLogger("tests.daemon"), None, None
                ):
                    assert error is None, error

        yield tick


def sensor_state(instance: dg.DagsterInstance, name: str):
    (state,) = [s for s in instance.all_instigator_state() if s.name == name]
    return state


def rewind(instance: dg.DagsterInstance, name: str) -> None:
    """Reset a sensor's cursor in the instance: the next tick reads from the start."""
    state = sensor_state(instance, name)
    instance.update_instigator_state(state.with_data(state.instigator_data._replace(cursor=None)))
