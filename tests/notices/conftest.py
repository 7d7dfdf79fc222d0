"""Notice fixtures: settings with a recording stand-in for LibreOffice unless a test needs the real one.

LibreOffice costs ~2 s per conversion, so only tests that request ``real_soffice`` (and the pure PDF tests)
convert for real; the others point ``SIPAS_SOFFICE`` at a tiny script that writes a PDF stub whose
content depends on the DOCX bytes, which is enough to check that issued files are frozen.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sipas.settings import Settings

FAKE_SOFFICE = f"""#!{sys.executable}
import hashlib, pathlib, sys
args = sys.argv[1:]
out = pathlib.Path(args[args.index("--outdir") + 1])
source = pathlib.Path(args[-1])
out.mkdir(parents=True, exist_ok=True)
digest = hashlib.sha256(source.read_bytes()).hexdigest()
(out / (source.stem + ".pdf")).write_bytes(b"%PDF-1.4\\n% stand-in " + digest.encode() + b"\\n%%EOF\\n")
"""


@pytest.fixture
def real_soffice() -> str:
    """Requesting this fixture makes ``settings`` use the real LibreOffice."""
    return "soffice"


@pytest.fixture(scope="session")
def fake_soffice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bin") / "soffice-stand-in"
    path.write_text(FAKE_SOFFICE)
    path.chmod(0o755)
    return path


@pytest.fixture
def settings(request: pytest.FixtureRequest, database_url: str, tmp_path: Path, fake_soffice: Path) -> Settings:
    env = {} if "real_soffice" in request.fixturenames else {"SIPAS_SOFFICE": str(fake_soffice)}
    return Settings.from_env(env, database_url=database_url, secret_key="test-secret-key",
                             instance_dir=tmp_path / "instance", secure_cookies=False, testing=True,
                             public_base_url="https://hailong.example.vn")
