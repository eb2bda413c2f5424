/**
 * The proxy's own answers to gRPC clients. A gRPC client reads the outcome of a call from
 * `grpc-status`, not from the HTTP status, so a refusal or failure of the proxy is a
 * trailers-only response (HTTP 200, `application/grpc`, `grpc-status`, `grpc-message`) with
 * the code gRPC's own mapping gives the HTTP status the proxy would have answered
 * (grpc/grpc `doc/http-grpc-status-mapping.md`): an unreachable endpoint is 14 UNAVAILABLE.
 */
import type { ClientResponse } from '../forward';
import type { IncomingFacts } from '../headers';

/** gRPC status codes by the HTTP status that stands for them; any other is 2 UNKNOWN. */
const GRPC_STATUS_OF_HTTP: Readonly<Record<number, number>> = {
  400: 13, // INTERNAL
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  404: 12, // UNIMPLEMENTED
  429: 14, // UNAVAILABLE
  502: 14,
  503: 14,
  504: 14,
};

export function grpcStatusOf(httpStatus: number): number {
  return GRPC_STATUS_OF_HTTP[httpStatus] ?? 2;
}

/** A request from a gRPC client (`content-type: application/grpc…`). */
export function isGrpcRequest(facts: IncomingFacts): boolean {
  const type = facts.header('content-type');
  return type !== undefined && /^application\/grpc(?:$|[+;])/i.test(type);
}

/** Answers a gRPC call with the status standing for `httpStatus`, and `message`. */
export function grpcAnswer(res: ClientResponse, httpStatus: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const head = [
    'content-type',
    'application/grpc',
    'grpc-status',
    String(grpcStatusOf(httpStatus)),
    // Percent-encoded, as grpc-message must be (the proxy's messages are ASCII).
    'grpc-message',
    encodeURIComponent(message),
  ];
  if (res.headOnly) res.headOnly(200, head);
  else {
    res.writeHead(200, undefined, head);
    res.end();
  }
}
