"""The frame query language: Lucene (Elasticsearch ``query_string``) over frame documents, ROI label rules and
orders, parsed with luqum and compiled to SQL for PostgreSQL and SQLite. It reads and never writes.

- ``syntax``: parsing, the errors (with the position), terms, wildcards and date bounds;
- ``fields``: the fields a query names and their types (from the dataset's meta schema);
- ``sql``: the SQL of a predicate on a JSON value or a column, per database;
- ``compiler``: a parsed query to one SQL condition;
- ``filters``: frame filters (label rules, frame and source queries, OR between filters);
- ``ordering``: the orders of a frame list and their keyset cursors.

See docs/queries.md for the language.
"""
