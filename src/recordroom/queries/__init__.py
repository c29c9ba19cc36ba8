"""Compliant queries (R-QRY-1 to R-QRY-5): a specialist, coder or CDI specialist asks
a provider to clarify the documentation of a visit, quoting the clinical indicators
of the record, from templates (open-ended, multiple choice, yes/no where allowed);
the builder refuses leading wording; the provider answers in a signed document of
the record; each query is a "query pending" deficiency until answered; metrics per
provider and per template.

Other apps may use: `models.*` (read-only), `services.open_queries_for`,
`services.open_count_for`, `services.queries_of_patient`.
"""
