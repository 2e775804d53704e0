"""Foreign-exchange rates into the reporting currency: validation, storage, the ECB's files, staleness."""
