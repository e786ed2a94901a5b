"""The channel's frames, one module per area; :mod:`livecommerce.channel.events` joins them
into the one registry. To add an area: a module here with ``SERVER_FRAMES`` and
``CLIENT_FRAMES`` tuples, and its name in ``AREAS`` of ``events.py``."""
