/**
 * corun's HTTP/1.x client and server, re-exported. Re-exports only.
 */
export { serve, httpServer, HttpServer, type ServeOptions, type HttpServerOptions } from "./server.ts";
export { HttpRequest, type HttpHandler, type HttpResponseInit } from "./request.ts";
export { request, HttpClient, type RequestOptions, type HttpClientOptions, type HttpClientStats } from "./client.ts";
export { HttpResponse } from "./response-object.ts";
export { HttpError, HttpCode } from "./errors.ts";
export type { HttpHeaders } from "./head.ts";
export type { BodyInit } from "./body.ts";
