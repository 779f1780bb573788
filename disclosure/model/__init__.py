"""Records, schema, site settings, the working-day calendar, the corpus and findings."""
