"""Chart completion pages: the delinquency dashboard, the suspension list, letters
to providers, and the specialists' worklists."""
