"""Release of information (ROI): requests, authorization and legal checks, minimum
necessary scoping, redaction, quality review, packets, delivery, letters, fees and
the accounting of disclosures.

Other apps may use: `models.Disclosure` (read-only), `disclosures.record_disclosure`.
"""
