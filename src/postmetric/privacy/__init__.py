"""A site's visitors' rights: erasure and export of their data."""
