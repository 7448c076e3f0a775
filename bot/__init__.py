"""The Telegram front, the terminal chat and the `intake-bot` command."""
