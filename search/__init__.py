"""Course search: one `SearchBackend` protocol, Meilisearch in production, an embedded
Chinese-aware engine (tantivy) by default, and the indexer that keeps either in step."""
