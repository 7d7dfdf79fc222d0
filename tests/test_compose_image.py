"""The Docker Compose deployment's image (deploy/compose): the service user can write what the code writes.

Docker is not run here; the files are read. The image ran as ``nobody``, which could not create the instance folder
under the code's own (the notices' PDF queue, console imports, a generated secret failed), and the scheduler's
backups volume was created root's, so the daily backup could not write its archive.
"""

from __future__ import annotations

import re
from pathlib import Path

COMPOSE = Path(__file__).resolve().parents[1] / "deploy" / "compose"


def test_the_image_runs_as_a_user_that_owns_the_instance_and_backups_folders() -> None:
    dockerfile = (COMPOSE / "Dockerfile").read_text(encoding="utf-8")
    user = re.findall(r"^USER (\S+)", dockerfile, re.M)[-1]
    assert user not in ("nobody", "root")
    instance = re.search(r"^ENV SIPAS_INSTANCE_DIR=(\S+)", dockerfile, re.M)
    assert instance is not None
    assert f"chown -R {user}:{user} {instance.group(1)}" in dockerfile
    compose = (COMPOSE / "compose.yaml").read_text(encoding="utf-8")
    backups = re.search(r"SIPAS_BACKUP_DIR: (\S+)", compose)
    assert backups is not None and backups.group(1).startswith(instance.group(1) + "/")
    assert f"mkdir -p {backups.group(1)}" in dockerfile  # made in the image, so the new volume is the user's
    assert f"instance:{instance.group(1)}" in compose


def _services(compose: str) -> dict[str, str]:
    """Each service's block of compose.yaml (the lines under ``  <name>:``)."""
    body = compose.split("\nservices:\n", 1)[1].split("\nvolumes:\n", 1)[0]
    return dict(re.findall(r"^  (\w+):[^\n]*\n((?:(?:    [^\n]*)?\n)*)", body + "\n", re.M))


def _environment(block: str) -> dict[str, str]:
    section = re.search(r"^    environment:[^\n]*\n((?:      [^\n]*\n)*)", block, re.M)
    pairs = re.findall(r"^      (SIPAS_\w+): *([^\s#]+)", section.group(1), re.M) if section else []
    return {name: value.strip('"') for name, value in pairs}


def _mounts(block: str) -> dict[str, str]:
    """volume name -> path in the container."""
    listed = re.search(r"^    volumes: \[([^\]]*)\]", block, re.M)
    return dict(item.strip().split(":", 1) for item in listed.group(1).split(",")) if listed else {}


def test_web_and_scheduler_use_the_instance_and_backups_volumes_whatever_sipas_env_says() -> None:
    """sipas.env is a copy of config/example.env, whose SIPAS_INSTANCE_DIR=instance beat the image's
    ``ENV SIPAS_INSTANCE_DIR`` (compose's env_file wins over an image's ENV): the instance folder was the code's
    /opt/sipas/instance, root's, which the service user could not create (a generated secret, imports and the
    notices' PDF queue failed) while the instance volume stayed unused. And the backups volume was the scheduler's
    alone, without the instance folder: `sipas doctor` or `sipas backup` in the web container looked at another
    folder, and the scheduler's archives held a secret of its own container when SIPAS_SECRET_KEY was empty."""
    dockerfile = (COMPOSE / "Dockerfile").read_text(encoding="utf-8")
    image_instance = re.search(r"^ENV SIPAS_INSTANCE_DIR=(\S+)", dockerfile, re.M)
    assert image_instance is not None
    example = (COMPOSE.parents[1] / "config" / "example.env").read_text(encoding="utf-8")
    assert re.search(r"^SIPAS_INSTANCE_DIR=instance$", example, re.M)  # what the copy sets
    services = _services((COMPOSE / "compose.yaml").read_text(encoding="utf-8"))
    for name in ("web", "scheduler"):
        block = services[name]
        assert "env_file: sipas.env" in block
        environment, mounts = _environment(block), _mounts(block)
        instance = environment.get("SIPAS_INSTANCE_DIR")
        assert instance == image_instance.group(1), f"{name}: SIPAS_INSTANCE_DIR {instance!r}"
        assert mounts.get("instance") == instance, f"{name}: {mounts}"
        backups = environment.get("SIPAS_BACKUP_DIR")
        assert backups and mounts.get("backups") == backups, f"{name}: {backups!r}, {mounts}"


def test_the_image_leaves_out_the_local_instance_folder_and_virtual_environment() -> None:
    """Without a .dockerignore, `COPY . .` put a checkout's instance/ (its secret_key, the demo's database and
    passwords after a `make run`) and .venv into the image's layers."""
    ignore = COMPOSE.parents[1] / ".dockerignore"
    assert ignore.is_file()
    patterns = {line.strip().strip("/") for line in ignore.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")}
    assert {"instance", ".venv", "node_modules", ".git"} <= patterns


def test_a_stop_reaches_gunicorn_and_waits_for_its_graceful_timeout() -> None:
    """The web service ran `sh -c "sipas db upgrade && gunicorn …"`: Debian's sh (dash) forks for the last command,
    so sh was the container's PID 1 and gunicorn its child. PID 1 ignores a SIGTERM it has no handler for, so
    `docker compose stop`/`up` after an upgrade never reached gunicorn: after Docker's 10 s it was killed, requests in
    flight cut, its 30 s graceful_timeout unused. Now the shell execs gunicorn, and the stop waits that long."""
    services = _services((COMPOSE / "compose.yaml").read_text(encoding="utf-8"))
    web = services["web"]
    command = re.search(r"^    command: (.*)$", web, re.M)
    assert command is not None
    if command.group(1).startswith("sh -c"):
        assert re.search(r"&& exec gunicorn ", command.group(1)), command.group(1)
    gunicorn_conf = (COMPOSE.parent / "gunicorn.conf.py").read_text(encoding="utf-8")
    graceful = re.search(r"^graceful_timeout = (\d+)$", gunicorn_conf, re.M)
    grace = re.search(r"^    stop_grace_period: (\d+)s", web, re.M)
    assert graceful is not None and grace is not None, "web: stop_grace_period in seconds"
    assert int(grace.group(1)) > int(graceful.group(1))
