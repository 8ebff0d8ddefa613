"""Reading and writing user files: the only place slimify touches the file system for code.

Text is decoded the way Python itself would (coding cookie, BOM) and line endings are kept as
they are; a file is written only when its new text compiles, by writing a temporary file next
to it and renaming it over the original, so an interrupted run leaves the old or the new file,
never half of one. Permissions are kept. An empty file (whitespace at most) is reported as bad
input, unless it is a package's `__init__.py`.
"""

from __future__ import annotations

import io
import os
import stat
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 10 * 1024 * 1024
# Empty files are bad input (a truncated copy, a file made and never written), except a
# package's `__init__.py`, which is empty in nearly every project: reporting those would fail
# every pre-commit run that stages one.
PACKAGE_MARKERS = frozenset({"__init__.py"})


class FileError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class SourceFile:
    text: str
    encoding: str
    bom: bool


def read_source(path: Path) -> SourceFile:
    try:
        status = path.stat()
    except OSError as error:  # missing, a symlink loop, a dangling link
        raise FileError(0, f"cannot read: {error.strerror or error}") from None
    if stat.S_ISDIR(status.st_mode):
        raise FileError(0, "is a directory")
    if not stat.S_ISREG(status.st_mode):
        raise FileError(0, "not a regular file (a pipe or device would block or never end)")
    if status.st_size > MAX_BYTES:
        raise FileError(0, f"file is {status.st_size // (1024 * 1024)} MiB, over the {MAX_BYTES // (1024 * 1024)} MiB limit; skipped")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise FileError(0, f"cannot read: {error.strerror or error}") from None
    source = decode(data)
    if not source.text.strip() and path.name not in PACKAGE_MARKERS:
        raise FileError(0, "empty file (no code, not even a comment); left alone")
    return source


def decode(data: bytes) -> SourceFile:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        raise FileError(getattr(error, "lineno", 0) or 1, f"bad encoding declaration: {error.msg}") from None
    bom = encoding == "utf-8-sig"
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as error:
        line = data[: getattr(error, "start", 0)].count(b"\n") + 1
        raise FileError(line, f"cannot decode as {encoding}: {error}") from None
    return SourceFile(text, encoding, bom)


def encode(source: SourceFile, text: str) -> bytes:
    """The bytes to write for `text`, in the file's own encoding (BOM included).

    The last check before a write: text that does not compile, or that the file's encoding
    cannot hold, raises FileError and the file stays as it is.
    """
    try:
        compile(text, "<rewritten>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        raise FileError(getattr(error, "lineno", None) or 1, f"rewritten text does not compile, file left unchanged: {error}") from None
    try:
        return text.encode(source.encoding)
    except UnicodeEncodeError as error:
        line = text[: error.start].count("\n") + 1
        raise FileError(line, f"rewritten text cannot be written as {source.encoding}, file left unchanged") from None


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one rename, keeping its permission bits.

    A symlink stays a symlink: its target is what gets replaced.
    """
    path = Path(os.path.realpath(path))
    mode = path.stat().st_mode & 0o7777
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".slimify-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
