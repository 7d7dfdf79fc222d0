"""A plain clone runs and tests sipas: nothing at run or test time reads a folder beside the repository.

The developers' checkout happens to sit beside a ``shared/`` folder; a user's clone does not. These
checks fail when code or configuration reaches outside the repository, or when a vendored contract
file is missing, untracked or altered.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

from tests.sms_gateway import prism

ROOT = Path(__file__).resolve().parent.parent

# Folders whose files run or configure the product and its tests. bench/ may compare with a peer
# application found beside the checkout, and says so when it is absent; docs/ only describe.
RUNTIME_FOLDERS = ("sipas", "kiosk", "sms_gateway", "aggregator", "config", "deploy", "tests", "scripts", ".ci")
RUNTIME_FILES = ("Makefile", "pyproject.toml", "package.json")
TEXT_SUFFIXES = {".py", ".sh", ".toml", ".cfg", ".ini", ".js", ".html", ".json", ".yaml", ".yml", ".conf", ".env",
                 ".service", ".desktop", ".txt", ".mako", ""}
BESIDE = "shared"  # the folder beside the developers' checkout; named once so this scanner is no reference itself
OUTSIDE_REFERENCE = re.compile(
    rf"""(\.\./)+{BESIDE}\b"""  # ../<folder>/…, ../../<folder>/…
    rf"""|["']\.\.["']\s*/\s*["']{BESIDE}["']"""  # REPO / ".." / "<folder>"
    rf"""|parents\[\d+\]\s*/\s*["']{BESIDE}["']"""  # Path(__file__).parents[2] / "<folder>"
)


def _tracked_files() -> list[Path]:
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [ROOT / name for name in listing.stdout.decode().split("\0") if name]


def _runtime_files() -> list[Path]:
    files = []
    for path in _tracked_files():
        relative = path.relative_to(ROOT)
        in_folder = relative.parts and relative.parts[0] in RUNTIME_FOLDERS
        if (in_folder or str(relative) in RUNTIME_FILES) and path.suffix in TEXT_SUFFIXES and path.is_file():
            files.append(path)
    return files


def test_no_runtime_or_test_file_reads_beside_the_repository():
    this_file = Path(__file__).resolve()
    offenders = []
    for path in _runtime_files():
        if path.resolve() == this_file or path.stat().st_size > 1_000_000:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if OUTSIDE_REFERENCE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_twilio_contract_is_vendored_tracked_and_unaltered():
    spec = prism.DEFAULT_SPEC.resolve()
    assert spec.is_relative_to(ROOT), f"{spec} lies outside the repository"
    tracked = {path.resolve() for path in _tracked_files()}
    folder = spec.parent
    for name in (spec.name, "LICENSE", "SOURCE.txt"):
        assert (folder / name).resolve() in tracked, f"{folder / name} is not in git: a clone would lack it"
    source_note = (folder / "SOURCE.txt").read_text(encoding="utf-8")
    recorded = re.search(r"sha256 ([0-9a-f]{64})", source_note)
    assert recorded, "SOURCE.txt records no sha256"
    assert hashlib.sha256(spec.read_bytes()).hexdigest() == recorded.group(1)
    assert "MIT" in (folder / "LICENSE").read_text(encoding="utf-8")


def test_the_reference_pattern_catches_what_it_must():
    """The scan above can fail: each of these spellings of a path beside the repository is caught."""
    up = ".."
    for line in (f'SPEC = "{up}/{BESIDE}/data/twilio/x.json"', f'REPO / "{up}" / "{BESIDE}" / "data"',
                 f"Path(__file__).parents[2] / '{BESIDE}' / 'peers'", f"cp {up}/{up}/{BESIDE}/domain/README.md ."):
        assert OUTSIDE_REFERENCE.search(line), line
    assert not OUTSIDE_REFERENCE.search(f"{BESIDE}_secret = settings.{BESIDE}")


def test_the_zalo_contract_is_vendored_tracked_and_unaltered():
    folder = ROOT / "tests" / "contracts" / "zalo"
    tracked = {path.resolve() for path in _tracked_files()}
    for name in ("zalo-zns.md", "SOURCE.txt"):
        assert (folder / name).resolve() in tracked, f"{folder / name} is not in git: a clone would lack it"
    recorded = re.search(r"sha256 ([0-9a-f]{64})", (folder / "SOURCE.txt").read_text(encoding="utf-8"))
    assert recorded, "SOURCE.txt records no sha256"
    assert hashlib.sha256((folder / "zalo-zns.md").read_bytes()).hexdigest() == recorded.group(1)
