"""Storage: the only package that knows database drivers."""
