"""Readers of package formats that more than one provider meets (pure parsing, no I/O).

A repository's lock file (the deps provider) and the same file found inside an image
layer (the image provider) are read by one reader here, so that both see the same
packages. Input is the file's text; output is plain records. Reading the file (regular
files only, size-capped: `auditor.safeio`) and turning an error into the caller's own
error or finding stay with the caller. No module here imports a provider.
"""

from __future__ import annotations


class LockfileError(ValueError):
    """The file cannot be read as what its name says (one line, no content echoed)."""
