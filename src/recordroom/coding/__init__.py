"""Coding: the code sets (ICD-10-CM, ICD-10-PCS, and the lists the edits read: POA
exempt codes, MS-DRG relative weights) versioned by effective date (R-COD-1, R-COD-8),
search like an encoder, and MS-DRG grouping with its edits (R-COD-2..5).

Other apps may use: `models.*` (read-only), `codesets.*`, `search.*`, `grouping.*`.
"""
