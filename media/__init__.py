"""The media plane: WebRTC publication and subscription, forwarding encoded frames.

Imports nothing from ``livecommerce``. Its sessions arrive with the media issue;
for now the package only reserves its place in the distribution.
"""
