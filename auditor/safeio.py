"""Bounded reading of user-supplied files: the one way auditor opens an input file.

Every file the scanner reads on a user's behalf (configuration, inventories, waivers,
baselines, certificates, keys, manual evidence, dependency files, matched source) goes
through `read_bounded`:

- only a regular file is read: a directory, device (`/dev/zero`), FIFO or socket is
  refused with a clear error, and a FIFO is never opened in a way that could block;
- at most `max_bytes` are read, whatever the file claims its size is;
- the error names the file (control characters escaped) and the limit.

YAML input goes through `load_yaml`: a safe loader that keeps dates as text (an
impossible date such as 2026-13-10 is then an error with file:line from the caller,
not a crash inside the YAML library) and turns syntax errors into file:line errors.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import yaml

from auditor.errors import InputError, UsageError


def show_path(path: Path | str) -> str:
    """A path for an error line: control characters escaped (a newline cannot cut the line)."""
    text = str(path)
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def is_regular_file(path: Path) -> bool:
    """A regular file (symlinks followed), checked without opening it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def open_regular_file(path: Path | str, max_bytes: int, what: str = "file") -> BinaryIO:
    """A regular file opened for reading (symlinks followed), at most `max_bytes` long; InputError otherwise.

    Opened non-blocking, so a FIFO never waits for a writer; the open descriptor itself is
    checked, so what was checked is what is read. For streaming; `read_bounded` reads it whole.
    """
    where = show_path(path)
    try:
        # O_NONBLOCK: opening a FIFO for reading must not wait for a writer.
        fd = os.open(str(path), os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{where}: {what} not found") from None
    except IsADirectoryError:
        raise InputError(f"{where}: {what} is a directory, not a file") from None
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket, or a FIFO opened for writing
            raise InputError(f"{where}: {what} is a socket, not a regular file; refusing to read it") from None
        raise InputError(f"{where}: cannot read {what}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{where}: {what} is {kind_of(st.st_mode)}, not a regular file; refusing to read it")
        if st.st_size > max_bytes:
            raise InputError(f"{where}: {what} is {st.st_size} bytes; the limit is {max_bytes}")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bounded(path: Path | str, max_bytes: int, what: str = "file") -> bytes:
    """The whole content of a regular file of at most `max_bytes`; InputError otherwise."""
    with open_regular_file(path, max_bytes, what) as fh:
        try:
            data = fh.read(max_bytes + 1)  # a file that grew after the check is still bounded
        except OSError as exc:
            raise InputError(f"{show_path(path)}: cannot read {what}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise InputError(f"{show_path(path)}: {what} is larger than the limit of {max_bytes} bytes")
    return data


def read_text_bounded(path: Path | str, max_bytes: int, what: str = "file") -> str:
    data = read_bounded(path, max_bytes, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{show_path(path)}: {what} is not UTF-8 text (byte {exc.start})") from None


class TextDatesLoader(yaml.SafeLoader):
    """Safe YAML that leaves dates and timestamps as text: callers parse them with clear errors."""


def _timestamp_as_text(loader: TextDatesLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


TextDatesLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def yaml_error(where: str, exc: yaml.YAMLError) -> InputError:
    mark = getattr(exc, "problem_mark", None)
    line = f":{mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or "invalid YAML"
    return InputError(f"{where}{line}: malformed YAML: {problem}")


def load_yaml(text: str, where: str) -> tuple[Any, yaml.Node | None]:
    """(data, node tree) of a YAML text; dates stay text; InputError with file:line on bad YAML."""
    try:
        node = yaml.compose(text, Loader=TextDatesLoader)
        data = yaml.load(text, Loader=TextDatesLoader)
    except yaml.YAMLError as exc:
        raise yaml_error(where, exc) from None
    except (ValueError, TypeError, RecursionError) as exc:
        raise InputError(f"{where}: unreadable YAML: {exc}") from None
    return data, node


# Output files (`--output`): shared by the CLI and the commands providers declare ----------


def check_output_path(path: str | None, flag: str = "--output") -> None:
    """Fail early (exit 2) when an output file cannot be written, before any work is done."""
    if not path or path == "-":
        return
    target = Path(path)
    where = show_path(path)
    if target.is_dir():
        raise UsageError(f"{flag} {where} is a directory")
    if target.exists() and not target.is_file():
        return  # a device or pipe: written into, never replaced
    parent = target.parent if str(target.parent) else Path(".")
    probe = parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"{flag} {where}: {show_path(probe)} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise UsageError(f"{flag} {where}: not writable")


@contextmanager
def output_stream(path: str | None, flag: str = "--output") -> Iterator[TextIO]:
    """stdout, or a file written atomically (a crash or a full disk never leaves half a file)."""
    if not path or path == "-":
        yield sys.stdout
        return
    target = Path(path)
    where = show_path(path)
    if target.is_dir():
        raise UsageError(f"{flag} {where} is a directory")
    if target.exists() and not target.is_file():
        # A device or pipe (/dev/null, /dev/stdout, a FIFO): write to it, never replace it.
        try:
            with target.open("w", encoding="utf-8", newline="") as fh:
                yield fh
        except OSError as exc:
            raise UsageError(f"cannot write {where}: {exc.strerror or exc}") from None
        return
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            yield fh
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write {where}: {exc.strerror or exc}; nothing was written") from None
