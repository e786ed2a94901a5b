"""Commerce: products, flash sales, reservations and orders, stats."""
