"""``catalog-search reindex``: rebuild the catalog into a new physical collection and swap the search alias.

The live collection (the one the search alias points at) keeps serving while a new collection is built for another
model, dim or index setting; searches switch only once the new one is complete, caught up and as good:

1. ``plan``: pure checks and decisions (target differs from the live collection, carry vectors or re-embed, the
   catch-up consumer group, the rows-to-events conversion, the operator's next steps);
2. ``source``: the live collection's rows, read whole through the ``core.store.CatalogStore``, vectors included;
3. ``build``: the new collection from those rows (vectors carried when model, dim and embedded text are unchanged,
   otherwise re-embedded through the real ``BatchProcessor``) or from a JSON Lines backfill file;
4. ``catchup``: Kafka events since the live ingest group's committed offsets (captured *before* the snapshot is
   read), applied to the new collection with the new embedder by a follower thread with its own consumer group;
   replays are idempotent because ingest skips every event whose version is not above the stored row's;
5. ``evaluate.gate``: nDCG@10 of the default search on a judged set, live alias target vs new collection;
6. ``run``: the orchestration; the alias is switched with one atomic ``set_alias`` only if the gate passed. Its
   stores come from a ``core.store.StoreFactory`` the app shell passes in (``app.reindex_command.open_store``).
"""
