"""Process limits the media plane needs: every peer connection holds UDP sockets."""

from __future__ import annotations

import logging
import resource

log = logging.getLogger("media.limits")


def raise_open_files_limit() -> int:
    """Raise the soft limit on open files to the hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft >= hard:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError) as exc:
        log.warning("cannot raise the open files limit from %d: %s", soft, exc)
        return soft
    return hard
