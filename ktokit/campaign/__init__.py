"""Running a campaign: how far each language is and who carries it (`progress`), and backups an empty
server can be restored from (`backup`)."""
