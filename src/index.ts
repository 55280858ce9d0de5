/**
 * corun: a coroutine runtime for Bun. Re-exports only.
 */
export { run } from "./run.ts";
export { Scheduler, type SchedulerOptions, type TaskInfo } from "./scheduler.ts";
export { sleep, spawn, join, cancel, current, wait, suspend, io } from "./syscalls.ts";
export { Syscall } from "./syscall.ts";
export { Task } from "./task.ts";
export { Cancelled, TaskError, UsageError } from "./errors.ts";
export { BunReactor, type IoDriver, type DriverFactory } from "./reactor/bun.ts";
export type { Reactor, CompletionSink, Submission, Ticket } from "./reactor/reactor.ts";
export type { Co, CoSource, Yieldable, TaskState, SpawnOptions, SchedulerStats, Waker, Undo } from "./types.ts";
export { listen, connect, netStats, Conn, Listener, NetError, NetCode, type ListenOptions, type ConnectOptions, type TlsOptions, type ConnStats, type TcpDriverStats } from "./net/index.ts";
