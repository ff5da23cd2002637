"""Text of a file for the personal-data scan, as (location, text) pieces, from its bytes.

Every place text can hide is read, and said in the location; one module per family of
formats: ``pdf`` (pages, hidden text, metadata, annotations, forms), ``office`` (XLSX,
DOCX, PPTX, ODT, ODS), ``containers`` (zip archives, email and mailboxes), ``plain`` (text,
CSV, RTF, old Office files, image metadata). ``extraction.Extraction`` reads a file with
the right one; ``base`` holds what they share.

A file that can't be read at all raises ``Unreadable`` (``PasswordProtected`` for an
encrypted PDF) with a message for staff; anything that goes wrong reading one part is a note
(``Extraction.notes``) and the rest is still read. Notes never contain the file's content.
"""
