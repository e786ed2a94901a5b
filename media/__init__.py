"""The media plane: WebRTC publication and subscription, forwarding encoded frames.

Imports nothing from ``livecommerce``. :class:`media.hub.MediaHub` is the entry point;
every reach into aiortc's and aioice's internals is in :mod:`media.aiortc_patches`.
"""
