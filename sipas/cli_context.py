"""The per-command context of the ``sipas`` CLI: settings (from the settings file and the shell), the database.

In a module of its own so that the command modules (``sipas.cli_*``, the channels' ``cli``) import it
without importing ``sipas.cli``, which imports them: no import circle.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from sipas.settings import Settings, SettingsError


class Context:
    """Lazily built settings and database for one command."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._database = None
        self.quiet = False  # --quiet, or a command whose output is machine-readable
        self.env_file: Path | None = None
        self.environ: dict[str, str] = {}  # the process environment over the settings file
        self._announced = False

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from sipas.envfile import EnvFileError, cli_environment

            try:
                self.environ, self.env_file = cli_environment()
                self._settings = Settings.from_env(self.environ)
            except (SettingsError, EnvFileError) as exc:
                raise click.ClickException(f"Cấu hình sai: {exc}") from exc
        return self._settings

    @property
    def has_settings(self) -> bool:
        """Whether the settings were read (and are valid)."""
        return self._settings is not None

    @property
    def database(self):  # type: ignore[no-untyped-def]
        from sipas.storage import Database

        if self._database is None:
            self._database = Database(self.settings)
            self.announce_database()
        return self._database

    def announce_database(self) -> None:
        """Say on stderr which database the command works on, so a wrong settings file shows at once."""
        if self.quiet or self._announced:
            return
        self._announced = True
        from sqlalchemy.engine import make_url

        url = make_url(self.settings.database_url).render_as_string(hide_password=True)
        source = f"cấu hình: {self.env_file}" if self.env_file else "không có tệp cấu hình, chỉ biến môi trường"
        from sipas.logformat import json_wanted

        if json_wanted():  # a service's stderr is its log: one JSON line, like every other
            logging.getLogger("sipas.cli").info("Cơ sở dữ liệu: %s (%s)", url, source)
            return
        click.echo(f"Cơ sở dữ liệu: {url} ({source})", err=True)

    def catalogue(self):  # type: ignore[no-untyped-def]
        from sipas.catalogue import load_catalogue

        return load_catalogue(self.settings.config_dir)

    def check_instruments(self, catalogue=None, *, record: bool = False) -> None:  # type: ignore[no-untyped-def]
        """Refuse to go on if a criterion-set version that has ratings was edited (sipas.instrument_records)."""
        from sipas.clock import utcnow
        from sipas.instrument_records import InstrumentChanged, check_records, record_existing

        catalogue = catalogue or self.catalogue()
        try:
            if record:
                with self.database.session() as session:
                    record_existing(session, catalogue, now=utcnow())
            with self.database.engine.connect() as connection:
                check_records(connection, catalogue)
        except InstrumentChanged as exc:
            raise click.ClickException(f"Bộ tiêu chí không khớp với phiếu đã lưu: {exc}") from None

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()
            self._database = None

    @property
    def secret(self) -> str:
        from sipas.instance_secret import _instance_secret

        return self.settings.secret_key or _instance_secret(self.settings)


pass_context = click.make_pass_decorator(Context, ensure=True)
