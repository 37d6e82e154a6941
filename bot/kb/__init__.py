"""The curated knowledge base: schema, loader with file:line issues, and the live store."""
