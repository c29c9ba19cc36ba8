"""Interoperability: FHIR R4 (fhir/), HL7 v2 over MLLP (hl7v2/), bulk import and export."""
