"""Every setting parsed when a process starts, so that a wrong value stops it there with the variable's name.

``Settings.from_env`` checks the core's settings; the backup's and each channel's are parsed by the code that uses
them, when a job runs or a request comes. The web app and the scheduler call :func:`check_every_setting` when they
start (docs/settings.md: "A wrong value stops the program at start"), instead of failing an SMS cycle every minute
or answering 500 to every kiosk rating. Both read one settings file, so each checks all of it.
"""

from __future__ import annotations

from sipas.settings import Settings


def check_every_setting(settings: Settings) -> None:
    """Raise ``SettingsError`` naming the first setting the backup or a channel (its ``check_settings``) refuses."""
    from sipas.backup import BackupSettings
    from sipas.plugins import channel_modules

    BackupSettings.from_settings(settings)
    for module in channel_modules():
        check = getattr(module, "check_settings", None)
        if check is not None:
            check(settings)
