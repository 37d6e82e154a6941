"""Japanese/English retrieval over the knowledge base."""
