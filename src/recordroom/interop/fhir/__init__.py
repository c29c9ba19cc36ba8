"""FHIR R4 read/search API at /fhir/R4 (issue 3): Patient, Encounter,
DocumentReference, Binary and the CapabilityStatement."""
