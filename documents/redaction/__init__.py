"""Redaction: the engine that burns boxes into rasterised pages (pure functions over bytes:
``boxes``, ``rendering``, ``page_search``, ``encoding``, ``ocr``, ``engine``, ``images``), the
converter of office files to PDF (``convert``), and what staff redact with (``working``,
``services``, ``views``, ``forms``, ``urls``)."""
