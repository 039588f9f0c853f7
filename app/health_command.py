"""``catalog-search health``: one ``grpc.health.v1.Health/Check`` call to a retrieval server.

Exit 0 when the service answers SERVING, 1 otherwise (NOT_SERVING while it drains, unreachable, timed out), so it
is the image's HEALTHCHECK and the compose health check; Kubernetes asks the same service with native gRPC probes.
"""

from __future__ import annotations

import argparse
import sys

from catalog_search.core.settings import Settings

WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]", "": "127.0.0.1"}


def local_address(listen: str) -> str:
    """Where a process next to the server reaches it: ``0.0.0.0:50051`` -> ``127.0.0.1:50051``."""
    host, sep, port = listen.rpartition(":")
    if not sep:
        return listen
    return f"{WILDCARD_HOSTS.get(host, host)}:{port}"


def health(args: argparse.Namespace, settings: Settings) -> int:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from catalog_search.retrieve.servicer import SERVICE_NAME
    from catalog_search.retrieve.tls import client_tls, open_channel, tls_hint

    address = args.address or local_address(settings.grpc.address)
    service = SERVICE_NAME if args.service is None else args.service
    tls = client_tls(settings.grpc)
    try:
        with open_channel(address, tls) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service),
                                                              timeout=args.timeout)
    except grpc.RpcError as exc:
        details = exc.details() or ""
        hint = tls_hint(details, tls=tls is not None) if exc.code() == grpc.StatusCode.UNAVAILABLE else ""
        print(f"{address} {service or '(server)'}: {exc.code().name}{hint}", file=sys.stderr)
        return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    print(f"{address} {service or '(server)'}: {status}")
    return 0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1
