"""Accounts: users, passwords, site keys and account tokens."""
