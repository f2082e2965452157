"""Step 7: running a campaign, not just its steps: progress, backups, the dashboard Space, visitors' votes."""
