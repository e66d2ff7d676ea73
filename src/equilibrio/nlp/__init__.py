"""Understanding messages: language, intent, questions, sentiment. Reads tables, writes tables."""
