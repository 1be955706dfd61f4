"""Ingestion: a tracker hit or API call becomes a stored event."""
