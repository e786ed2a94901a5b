"""``livecommerce-anchor``: publish a room's stream over WHIP (a file, a camera, the screen
or a synthetic test source). Talks to the server only through its public interface."""
