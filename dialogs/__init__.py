"""The conversation engine and the questionnaire; knows nothing of Telegram."""
