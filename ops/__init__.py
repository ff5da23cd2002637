"""Operations of the platform as a whole: encrypted database backups, their rotation, and
restores that are tried, not assumed (docs/operations.md, "Backups").

Sits above accounts, beside requests_portal: it may use vault, audit and accounts, and no
agency-facing app imports it."""
