"""Payments in, attributed revenue out (SPEC §6): the ledger, currency conversion, provider webhooks."""
