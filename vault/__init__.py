"""The bottom layer: keys, sealing and blob storage.

Every other app may import it; it imports none of them (only Django and libraries). It holds
the master keyring and the sealing of small secrets (``keyring``), the streaming AEAD that
documents and backups are written with (``crypto``), and the blob stores that keep ciphertext
(``storage``). Which agency owns a key, and which row a blob belongs to, is decided above it.
"""
