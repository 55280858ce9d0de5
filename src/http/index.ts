/**
 * corun's HTTP/1.x client and server, re-exported. Re-exports only.
 */
export { HttpServer } from "./server.ts";
export { serve, httpServer } from "./serve.ts";
export type { ServeOptions, HttpServerOptions, RequestLimits, RequestOptions, HttpClientOptions, HttpClientStats } from "./options.ts";
export { HttpRequest, type HttpHandler, type HttpResponseInit } from "./request.ts";
export { HttpClient } from "./client.ts";
export { request, requestStream } from "./default-client.ts";
export { StreamedResponse } from "./streamed-response.ts";
export { HttpResponse } from "./response-object.ts";
export { HttpError, HttpCode } from "./errors.ts";
export type { HttpHeaders } from "./fields.ts";
export type { BodyInit } from "./outgoing-body.ts";
export { BodyWriter, type StreamBody } from "./stream-body.ts";
