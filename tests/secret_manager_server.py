"""Google Secret Manager as a test serves it on 127.0.0.1: the service itself cannot be reached
here, so a gRPC server (grpcio's own) answers its real API,
``google.cloud.secretmanager.v1.SecretManagerService/AccessSecretVersion``, with the request and
response messages of the google-cloud-secret-manager package, to the real client pointed at it
(``GUNJ_SECRET_MANAGER_ENDPOINT``). It answers as the service does: the version's payload, or
NOT_FOUND naming the version; and it records what it was asked."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field

import grpc
from google.cloud.secretmanager_v1.types import resources, service

SERVICE = "google.cloud.secretmanager.v1.SecretManagerService"


@dataclass
class ServedSecrets:
    endpoint: str
    payloads: dict[str, bytes]
    """Version name (``projects/P/secrets/S/versions/V``) to payload."""
    asked: list[str] = field(default_factory=list)
    """Every version name asked for, in order."""
    hang: bool = False
    """True: no answer comes until the server stops (a service that does not answer)."""


@contextmanager
def secret_manager(payloads: Mapping[str, bytes | str]) -> Iterator[ServedSecrets]:
    served = ServedSecrets(
        "", {name: p.encode() if isinstance(p, str) else p for name, p in payloads.items()}
    )
    released = threading.Event()

    def access(
        request: service.AccessSecretVersionRequest, context: grpc.ServicerContext
    ) -> service.AccessSecretVersionResponse:
        served.asked.append(request.name)
        if served.hang:
            released.wait(60)
        payload = served.payloads.get(request.name)
        if payload is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Secret Version [{request.name}] not found.")
        return service.AccessSecretVersionResponse(
            name=request.name, payload=resources.SecretPayload(data=payload)
        )

    handler = grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "AccessSecretVersion": grpc.unary_unary_rpc_method_handler(
                access,
                request_deserializer=service.AccessSecretVersionRequest.deserialize,
                response_serializer=service.AccessSecretVersionResponse.serialize,
            )
        },
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    served.endpoint = f"127.0.0.1:{port}"
    try:
        yield served
    finally:
        released.set()
        server.stop(grace=None)
