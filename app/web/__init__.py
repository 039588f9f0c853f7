"""The web page and the HTTP JSON API in front of the retrieval gRPC service (``catalog-search ui``).

One process serves both: ``api.create_app`` builds a FastAPI app whose ``/v1/search`` and ``/v1/rerank`` call the
service through the typed client (``retrieve.client.SearchClient``, never Milvus), with the client's errors mapped
to HTTP (400 naming the field, 503 when the service or one of its backends is down, ...), and which serves the page
(``static/``: plain HTML, CSS and JavaScript, no CDN, no analytics) at ``/``. ``server.WebServer`` runs it with
uvicorn. FastAPI, Starlette and uvicorn are imported in this package only.
"""
