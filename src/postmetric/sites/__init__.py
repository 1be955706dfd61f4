"""Sites: their settings, the cached directory ingestion reads, and cookieless salts."""
