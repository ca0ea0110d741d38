"""MLflow 3 traces: the domain other parts of mltracker use (the UI's traces tab, reports).

- `model`: the typed values (`TraceInfo`, `SpanRecord`, `Span`) and their MLflow JSON shapes.
- `otlp`: OTLP/HTTP export requests (protobuf or JSON) to `SpanRecord`s, and stored spans back.
- `store`: trace info writes and reads (start/end, tags, delete, run links), project-scoped.
- `spans`: bulk span ingestion and reading the spans of traces in one query.
- `search`: MLflow's trace filter grammar and order-by, compiled to SQL, with pages.
- `assessments`: feedback and expectations on a trace.

Every function takes a Connection and plain values; none reads the request.
"""
