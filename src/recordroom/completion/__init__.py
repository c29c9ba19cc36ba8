"""Chart completion: deficiency rules as data, the analysis that opens and closes
deficiencies on a visit's chart, aging and the delinquency rate (R-RC-1 to R-RC-7).

Other apps use: `models.*`, `engine.analyze_encounter`, `services.*`,
`delinquency.*`, `rules.export_rules` / `rules.import_rules`.
"""
