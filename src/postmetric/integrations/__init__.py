"""Integrations (issue 17): GitHub commits, posts on X and Search Console keywords, synced in the background.

`sync.py` is the engine (when to sync, once across nodes, what a failure means), `connections.py`
connects and disconnects, `registry.py` names the providers; each provider module speaks its API.
"""
