// Parsers arrive with the SPF work.
