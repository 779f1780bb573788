"""The public site: planner (corpus → page data), templates glue, feeds, search index, MkDocs glue."""
