"""Master patient index: facilities, patients, identifiers, names, addresses, telecoms.

Other apps use: `models.Patient`, `models.Facility`, `services.search_patients`,
`services.register_patient`, `services.visible_patients`.
"""
