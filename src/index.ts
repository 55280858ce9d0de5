/**
 * corun: a coroutine runtime for Bun. Re-exports only.
 */
export { run } from "./run.ts";
export { Scheduler, type SchedulerOptions, type TaskInfo } from "./scheduler.ts";
export { sleep, spawn, join, cancel, interrupt, current, wait, suspend, io } from "./syscalls.ts";
export { now } from "./now.ts";
export { Syscall } from "./syscall.ts";
export { Task } from "./task.ts";
export { Cancelled, TaskError, UsageError, DeadlockError } from "./errors.ts";
export { BunReactor, type IoDriver, type DriverFactory } from "./reactor/bun.ts";
export type { Reactor, CompletionSink, Submission, Ticket } from "./reactor/reactor.ts";
export type { Co, CoSource, TaskBody, Yieldable, TaskState, SpawnOptions, SchedulerStats, Waker, Undo } from "./types.ts";
export { listen, connect, netStats, Conn, Listener, NetError, NetCode, type ListenOptions, type ConnectOptions, type TlsOptions, type ConnStats, type TcpDriverStats } from "./net/index.ts";
export { channel, Channel, type RecvResult } from "./sync/channel.ts";
export { select, recvFrom, sendTo, type Case, type RecvCase, type SendCase, type Selected, type SelectOptions } from "./sync/select.ts";
export { Lock, Semaphore } from "./sync/semaphore.ts";
export { Event } from "./sync/event.ts";
export { Condition } from "./sync/condition.ts";
export { Waiter, WaitList } from "./sync/wait-list.ts";
export { ChannelClosed, SyncUsageError } from "./sync/errors.ts";
export { group, type Group, type GroupOptions } from "./structure/group.ts";
export { all, race, any, type ResultOf } from "./structure/combinators.ts";
export { timeout, moveOnAfter } from "./structure/timeout.ts";
export { shield } from "./structure/shield.ts";
export { TimeoutError, GroupError } from "./structure/errors.ts";
export { signal } from "./interop/signal.ts";
export { each, type EachSource } from "./interop/each.ts";
export { recvAsync, sendAsync, iterate, type AsyncOptions } from "./interop/channel-iterable.ts";
export { serve, httpServer, HttpServer, HttpRequest, request, requestStream, HttpClient, HttpResponse, StreamedResponse, HttpError, HttpCode, type ServeOptions, type HttpServerOptions, type RequestLimits, type HttpHandler, type HttpResponseInit, type RequestOptions, type HttpClientOptions, type HttpClientStats, type HttpHeaders, type BodyInit, BodyWriter, type StreamBody } from "./http/index.ts";
export { open, File, type FileStats, type FileOpenOptions } from "./fs/file.ts";
export { udp, UdpSocket, type Datagram, type UdpStats, type UdpOptions } from "./net/index.ts";
