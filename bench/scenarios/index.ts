/**
 * The scenario registry: static imports, so `bun build --compile` embeds every scenario in
 * the `corun` binary. Add a scenario here once its file exists and typechecks.
 */
import type { Scenario } from "../scenario.ts";
import { scenario as channels } from "./channels.ts";
import { scenario as concurrent } from "./concurrent.ts";
import { scenario as echo } from "./echo.ts";
import { scenario as io } from "./io.ts";
import { scenario as micro } from "./micro.ts";
import { scenario as selftest } from "./selftest.ts";
import { scenario as urlfetch } from "./urlfetch.ts";

/** Every scenario, in the order `corun bench` runs them. */
export const scenarios: Scenario[] = [concurrent, io, echo, channels, urlfetch, micro, selftest];
