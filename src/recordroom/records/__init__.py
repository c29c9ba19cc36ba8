"""The legal health record: providers, encounters, documents, versions, signatures.

Other apps use: `models.*`, `services.*`, `search.find_patients`.
"""
