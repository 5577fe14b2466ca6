"""The declared election and the event vocabulary: what the log talks about."""
