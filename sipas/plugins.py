"""The channel packages the core wires in, each optional and found by name.

The core never imports a channel at module level (channels import ``sipas``). The app factory, the
CLI, the scheduler and the migrations environment ask this module for a channel's ``init_app``,
CLI commands, scheduler jobs and models.
"""

from __future__ import annotations

import importlib
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
    """Import every module that declares tables, so ``Base.metadata`` is complete."""
    importlib.import_module("sipas.models")
    channel_modules("models")
