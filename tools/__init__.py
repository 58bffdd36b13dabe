"""Scripts that keep the repository's generated documents current (not installed)."""
