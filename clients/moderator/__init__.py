"""``livecommerce-mod``: moderate a room from the command line over the HTTP API."""
