"""Audit trail: append-only, hash-chained events (RULES.md R-SEC-2).

Other apps use: `record`, `record_many`, `verify_chain`, `Outcome`.
"""
