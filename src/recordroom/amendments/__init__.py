"""Amendments: a patient's request to amend their record (45 CFR 164.526, R-AMD-1..7):
the 60-day clock and its one extension, the author's review, acceptance appended to
the entries, denial with its letter, disagreement and rebuttal linked to the record
and sent with later disclosures (through records.disclosure_materials).

Other apps may use: `models.*` (read-only), `services.*`.
"""
