"""Pre-generate the kiosk's Vietnamese read-aloud audio at build time, so it plays offline.

Every question and option of every instrument in the catalogue (hue12, quay4, tt01_2018: any of them
can be chosen as a unit's kiosk form) is spoken by espeak-ng's Vietnamese voice and compressed to Ogg
Vorbis (mono, 16 kHz) with sox. Files are named by a hash of what is spoken; ``manifest.json`` maps each
text as shown to its file, and rating-flow.js looks texts up there.

    python -m kiosk.audio_build            # regenerate kiosk/static/kiosk/audio/
    python -m kiosk.audio_build --check    # exit 1 when the committed audio is missing or stale
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from sipas.catalogue import Catalogue, load_catalogue
from sipas.settings import DEFAULT_CONFIG_DIR

AUDIO_DIR = Path(__file__).resolve().parent / "static" / "kiosk" / "audio"
# Screen prompts, spoken exactly as rating-flow.js (PROMPTS) and kiosk.js (START_PROMPT) show them.
EXTRA_TEXTS = (
    "Không áp dụng",
    "Mời ông/bà nhập mã hồ sơ in trên giấy hẹn trả kết quả, hoặc đưa mã vạch vào máy quét.",
    "Ông/bà có góp ý gì thêm không? (không bắt buộc)",
    "Xin ông/bà xem lại và bấm “Gửi đánh giá”",
    "Cảm ơn ông/bà đã đánh giá!",
)
VOICE = ["espeak-ng", "-v", "vi", "-s", "140"]
# Abbreviations on screen that the voice would spell letter by letter.
SPOKEN_AS = {"TTHC": "thủ tục hành chính"}


def texts_to_speak(catalogue: Catalogue, on: date) -> list[str]:
    """Every question (plain and legal), option label and prompt the kiosk may show, deduplicated in order."""
    texts: list[str] = []
    for code in catalogue.codes:
        for instrument in catalogue.versions(code):
            if instrument.effective_to is not None and instrument.effective_to < on:
                continue
            for criterion in instrument.citizen_criteria:
                if criterion.citizen_label:
                    texts.append(criterion.citizen_label)  # the plain question the screen shows
                texts.append(criterion.label)
                texts.extend(option.label for option in criterion.options)
    texts.extend(EXTRA_TEXTS)
    return list(dict.fromkeys(texts))


def spoken(text: str) -> str:
    for short, words in SPOKEN_AS.items():
        text = re.sub(rf"\b{short}\b", words, text)
    return text


def file_name(text: str) -> str:
    return hashlib.sha1(f"{' '.join(VOICE)}|{spoken(text)}".encode()).hexdigest()[:16] + ".ogg"


def synthesize(text: str, target: Path, scratch: Path) -> None:
    wav = scratch / "speech.wav"
    subprocess.run([*VOICE, "-w", str(wav), spoken(text)], check=True, capture_output=True)
    subprocess.run(["sox", str(wav), "-r", "16000", "-c", "1", "-C", "0", str(target)], check=True,
                   capture_output=True)


def build(audio_dir: Path = AUDIO_DIR, on: date | None = None) -> dict[str, str]:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: apt-get install -y espeak-ng sox libsox-fmt-base")
    catalogue = load_catalogue(DEFAULT_CONFIG_DIR)
    manifest = {text: file_name(text) for text in texts_to_speak(catalogue, on or date.today())}
    audio_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        for text, name in manifest.items():
            if not (audio_dir / name).exists():
                synthesize(text, audio_dir / name, Path(scratch))
    for stale in set(p.name for p in audio_dir.glob("*.ogg")) - set(manifest.values()):
        (audio_dir / stale).unlink()
    (audio_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                                             encoding="utf-8")
    return manifest


def check(audio_dir: Path = AUDIO_DIR) -> list[str]:
    """Texts without a committed audio file (empty when the audio is complete and current)."""
    catalogue = load_catalogue(DEFAULT_CONFIG_DIR)
    path = audio_dir / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return [text for text in texts_to_speak(catalogue, date.today())
            if manifest.get(text) != file_name(text) or not (audio_dir / file_name(text)).exists()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only verify the committed audio")
    args = parser.parse_args(argv)
    if args.check:
        missing = check()
        for text in missing:
            print(f"missing audio: {text[:60]}")
        return 1 if missing else 0
    manifest = build()
    total = sum((AUDIO_DIR / name).stat().st_size for name in manifest.values())
    print(f"{len(manifest)} audio files, {total / 1024:.0f} KiB in {AUDIO_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
