"""HTTP: the only package that knows requests and responses."""
