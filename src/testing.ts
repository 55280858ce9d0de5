/**
 * `corun/testing`: run coroutines in virtual time. Re-exports only.
 */
export { FakeReactor, type FakeReactorOptions } from "./reactor/fake.ts";
export { TimerQueue, type Bucket, type Sleeper } from "./timers.ts";
