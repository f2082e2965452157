"""Running a campaign: how far each language is and who carries it (`progress`), backups an empty
server can be restored from (`backup`), the dashboard Space (`dashboard`, `dashboard_space`) and the
demo Space visitors' votes, counted (`visitors`)."""
