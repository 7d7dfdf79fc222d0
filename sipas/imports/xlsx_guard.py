"""Bounds on an XLSX file checked before openpyxl parses it (a zip bomb must not take a worker's memory).

An XLSX file is a zip archive of XML parts. A few hundred kilobytes can decompress to gigabytes (one huge
shared string took 3 GB of memory and 65 s of a worker), so before parsing we check, for every member and
for the archive as a whole: the declared uncompressed size, the compression ratio, and the actual
decompressed size (streamed in small chunks, never held whole). While streaming the XML parts we also
measure the longest text run between two tags: a cell (shared string or inline string) longer than Excel's
own limit of 32,767 characters cannot come from a real export. Memory stays bounded by one chunk.
"""

from __future__ import annotations

import zipfile

from sipas.imports.report import ImportFileError

#: Largest decompressed size of one part of the workbook (a 40,000-row sheet is about 20 MB of XML).
MAX_MEMBER_BYTES = 100 * 1024 * 1024
#: Largest decompressed size of the whole workbook.
MAX_TOTAL_BYTES = 250 * 1024 * 1024
#: Largest compression ratio of a part of at least RATIO_FLOOR bytes (real sheets compress 5-30 times).
MAX_RATIO = 100
RATIO_FLOOR = 1024 * 1024
#: Excel's own limit on the characters of one cell.
MAX_CELL_CHARS = 32_767
#: A text run of more bytes than this between two XML tags holds more than MAX_CELL_CHARS characters
#: (6 bytes per character covers 4-byte UTF-8 and escapes such as ``&amp;``).
MAX_TEXT_RUN_BYTES = MAX_CELL_CHARS * 6
CHUNK = 64 * 1024


class SpreadsheetTooLarge(ImportFileError):
    """The workbook decompresses to more than we are willing to parse, or holds an impossibly long cell."""

    code = "import_file_too_large"
    message_vi = ("Tệp Excel quá lớn khi giải nén hoặc có ô quá dài nên không thể nhập. Hãy xuất lại tệp từ "
                  "phần mềm một cửa hoặc chia tệp thành nhiều tệp nhỏ hơn.")


def _refuse(reason: str, detail: str) -> SpreadsheetTooLarge:
    return SpreadsheetTooLarge(f"Tệp Excel không thể nhập: {reason} Hãy xuất lại tệp từ phần mềm một cửa, "
                               "hoặc chia thành nhiều tệp nhỏ hơn.", detail=detail)


def check_xlsx(archive: zipfile.ZipFile) -> None:
    """Raise ``SpreadsheetTooLarge`` when the archive is over any bound; read each member in chunks only."""
    members = archive.infolist()
    declared_total = 0
    for info in members:
        _check_declared(info)
        declared_total += info.file_size
        if declared_total > MAX_TOTAL_BYTES:
            raise _refuse(f"dung lượng sau giải nén vượt {MAX_TOTAL_BYTES // 1024 // 1024} MB.",
                          detail=f"declared total over {MAX_TOTAL_BYTES} bytes")
    actual_total = 0
    for info in members:
        actual_total += _check_actual(archive, info, MAX_TOTAL_BYTES - actual_total)


def _check_declared(info: zipfile.ZipInfo) -> None:
    if info.file_size > MAX_MEMBER_BYTES:
        raise _refuse(f"phần “{info.filename}” sau giải nén vượt {MAX_MEMBER_BYTES // 1024 // 1024} MB.",
                      detail=f"member {info.filename} declares {info.file_size} bytes")
    if info.file_size >= RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise _refuse(f"phần “{info.filename}” nén với tỉ lệ bất thường (hơn {MAX_RATIO} lần).",
                      detail=f"member {info.filename} ratio over {MAX_RATIO}")


def _check_actual(archive: zipfile.ZipFile, info: zipfile.ZipInfo, total_left: int) -> int:
    """Stream one member: its real size (whatever the header says) and its longest text run between tags."""
    is_xml = info.filename.endswith((".xml", ".rels"))
    size = run = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > min(MAX_MEMBER_BYTES, total_left):
                    raise _refuse("dung lượng thực sau giải nén vượt giới hạn.",
                                  detail=f"member {info.filename} inflates past the limit")
                if size >= RATIO_FLOOR and size > MAX_RATIO * max(info.compress_size, 1):
                    raise _refuse(f"phần “{info.filename}” nén với tỉ lệ bất thường (hơn {MAX_RATIO} lần).",
                                  detail=f"member {info.filename} actual ratio over {MAX_RATIO}")
                if is_xml:
                    run = _longest_run(chunk, run, info.filename)
    except SpreadsheetTooLarge:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise ImportFileError("Tệp Excel bị hỏng hoặc không phải tệp .xlsx.",
                              detail=f"zip member {info.filename}: {exc}") from exc
    return size


def _longest_run(chunk: bytes, run: int, name: str) -> int:
    """The text run still open at the end of ``chunk``, given the one open at its start; refuse a too long one."""
    last_tag = max(chunk.rfind(b"<"), chunk.rfind(b">"))
    if last_tag < 0:
        run += len(chunk)
    else:
        # a run inside one chunk is no longer than the chunk: only a chunk larger than the limit needs the split
        # (a third of the guard's time on a 100,000-row sheet)
        longest = 0 if len(chunk) <= MAX_TEXT_RUN_BYTES else max(
            (len(piece) for piece in chunk[:last_tag].replace(b">", b"<").split(b"<")), default=0)
        first = chunk.find(b"<")
        first = len(chunk) if first < 0 else first
        if run + first > MAX_TEXT_RUN_BYTES or longest > MAX_TEXT_RUN_BYTES:
            raise _too_long_cell(name)
        run = len(chunk) - last_tag - 1
    if run > MAX_TEXT_RUN_BYTES:
        raise _too_long_cell(name)
    return run


def _too_long_cell(name: str) -> SpreadsheetTooLarge:
    return _refuse(f"có ô dài hơn {MAX_CELL_CHARS:,} ký tự (giới hạn của Excel).".replace(",", "."),
                   detail=f"text run over {MAX_TEXT_RUN_BYTES} bytes in {name}")
