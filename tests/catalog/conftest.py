# Temporary: the root conftest will list "tests.support.stack" in pytest_plugins; until then these fixtures are
# imported here (once, for tests/catalog and below, so the session-scoped servers are not started twice).
from tests.support.stack import kafka_broker, milvus_server, milvus_store  # noqa: F401
