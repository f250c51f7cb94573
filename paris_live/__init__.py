"""paris_live."""
