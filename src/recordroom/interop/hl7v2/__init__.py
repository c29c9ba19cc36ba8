"""HL7 v2 over MLLP: parse, apply ADT events, acknowledge (parser, services, listen)."""
