"""The scan of an uploaded document: malware (signatures, archives opened within limits,
attachments, clamd) and personal data (the text of every format, its patterns). The scanner
(``scanner``) records the outcome: a document leaves quarantine only through it."""
