"""livecommerce: a live-streaming commerce server.

``__version__`` is the one place the version is written: the wheel's metadata
(hatch's dynamic version), ``livecommerce --version`` and the
``livecommerce_build_info`` metric all read it.
"""

__version__ = "0.1.0"
