"""Member e-mails: the program speaking to its members when something happens, with their consent, in their language."""
