"""Static files under a URL that names their content, so that browsers keep them.

Pages ask for ``/static/<version>/...``, the version a digest of everything in ``static/``: a
deploy that changes any file changes every URL, so a reader never runs new HTML with old scripts,
and between deploys a browser asks for none of them again, not even whether they changed (each
such question was a round trip before the page could be shown, one more per module down the
import chain). Relative URLs inside the files (a module's imports, the stylesheet's fonts) stay
within their version. All app servers of a deployment run the same files, so they agree on it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

FOLDER = Path(__file__).resolve().parent.parent / "static"
MAX_AGE = 365 * 24 * 3600  # seconds: a versioned URL's content never changes


def content_version(folder: Path = FOLDER) -> str:
    """A short digest of every file's path and bytes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
