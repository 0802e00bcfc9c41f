// The Hono app of hono_app.ts as a worker, for the workerd part of tests/e2e/hono.test.ts.
import { createApp } from "./hono_app.ts";

export default createApp();
