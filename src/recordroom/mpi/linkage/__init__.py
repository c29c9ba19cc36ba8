"""Probabilistic record linkage for the patient index (Fellegi-Sunter, trained
without labels), with blocking that scales, evidence on every pair, a resumable
batch scan and a real-time path for search before create.

Other apps use: `services.scan_index`, `services.export_pairs`,
`realtime.match_patient` (ranked candidates with evidence), `model.LinkageModel`.
"""
