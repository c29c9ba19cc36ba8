"""Capture: paper, fax and outside records scanned, read and filed into the right chart.

A batch (one file from a scanner, a fax line, an upload or an import) is kept byte for
byte, normalised to a searchable PDF, split into documents, read, matched to a patient
and a visit, classified, and either filed automatically or queued for an indexer.

Other apps use: `models.*`, `types.*`, `cover.*`, `filing.*`.
"""
