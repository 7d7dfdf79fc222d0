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
