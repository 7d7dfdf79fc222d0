"""The channel packages the core wires in, each optional and found by name.

The core never imports a channel at module level (channels import ``sipas``). The app factory, the
CLI, the scheduler and the migrations environment ask this module for a channel's ``init_app``,
CLI commands, scheduler jobs and models.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

CHANNELS = ("kiosk", "sms_gateway", "aggregator")


def channel_modules(submodule: str | None = None) -> list[ModuleType]:
    """Import ``<channel>`` or ``<channel>.<submodule>`` for every channel that provides it."""
    modules = []
    for channel in CHANNELS:
        name = f"{channel}.{submodule}" if submodule else channel
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name not in (name, channel):
                raise
    return modules


def load_all_models() -> None:
    """Import every module that declares tables (``models*.py`` in the core and each channel)."""
    importlib.import_module("sipas.models")
    importlib.import_module("sipas.models_ballots")
    importlib.import_module("sipas.cases.models")
    importlib.import_module("sipas.models_tally")
    for channel in CHANNELS:
        try:
            package = importlib.import_module(channel)
        except ModuleNotFoundError as exc:
            if exc.name != channel:
                raise
            continue
        for info in pkgutil.iter_modules(package.__path__):
            if info.name.startswith("models"):
                importlib.import_module(f"{channel}.{info.name}")
