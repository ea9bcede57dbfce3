"""The field names of a mention document in the index: the mapping (earful_indexer.template) is built from them and
every query, sort and aggregation (here, in alerts and in the wiring) names fields through them, so a field is
renamed in one place and a misspelt one fails at import instead of silently matching nothing.

The document itself is `earful_listeners.mention.Mention.to_document()`; the mapping is strict, so a document
field missing here is refused by the index.
"""

SOURCE_KIND = "source_kind"
SOURCE = "source"
NATIVE_ID = "native_id"
URL = "url"
TITLE = "title"
TEXT = "text"
AUTHOR_REF = "author_ref"
AUTHOR_RAW = "author_raw"
PUBLISHED_AT = "published_at"
FETCHED_AT = "fetched_at"
REACH = "reach"
ENGAGEMENT = "engagement"
LANGUAGE = "language"
LANGUAGE_SCORE = "language_score"
TOPICS = "topics"
DUPLICATE_OF = "duplicate_of"
LABELS = "labels"
EXTRA = "extra"
SENTIMENT = "sentiment"  # inside LABELS
LABELS_SENTIMENT = f"{LABELS}.{SENTIMENT}"  # the same, as a query path
