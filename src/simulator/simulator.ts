// Starts a VPS.org API simulator in-process: the entry point for tests, benchmarks and the CLI.
// Wires the store, limiter, stats and faults behind one HTTP server on a loopback port and hands
// back its URLs, in-process control (`state`) and close(); `await using` closes it too.

import type { AddressInfo } from 'node:net';
import { SimulatorControl, type SimulatorState } from './control.ts';
import { createSimulatorServer } from './http.ts';
import { InspectApi } from './inspect.ts';
import { resolveOptions, type SimulatorOptions } from './options.ts';
import { ProviderApi } from './provider-api.ts';
import { seededRandom } from './random.ts';
import { TokenBucketLimiter } from './rate-limit.ts';
import { SimTime } from './sim-time.ts';
import { StatsRecorder } from './stats.ts';
import { SimulatorStore } from './store.ts';
import { WriteLog } from './write-log.ts';

export interface RunningSimulator extends AsyncDisposable {
  /** Origin of the server, e.g. `http://127.0.0.1:41234` (the /_sim/ API lives here). */
  url: string;
  /** What a client takes as its base URL: `url + '/api/v1'`. */
  apiBaseUrl: string;
  port: number;
  /** The seed in use (log it to replay a run). */
  seed: number;
  /** In-process inspection and control. */
  state: SimulatorState;
  /** Stops listening, cuts open connections and ends pending injected latencies. Idempotent. */
  close(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const o = resolveOptions(options);
  const time = new SimTime(o.clock, o.timeScale);
  const random = seededRandom(o.seed);
  const store = new SimulatorStore({
    catalogue: o.catalogue,
    time,
    random,
    provisioningSeconds: o.provisioningSeconds,
    transitionSeconds: o.transitionSeconds,
    accounts: o.accounts,
  });
  const stats = new StatsRecorder();
  const writes = new WriteLog();
  const limiter = new TokenBucketLimiter(o.rateLimit, () => time.now(), o.retryAfterGraceMs);
  const control = new SimulatorControl({ store, stats, writes, limiter, time, faults: o.faults });
  const closing = new AbortController();
  const server = createSimulatorServer({
    api: new ProviderApi({ store, limiter, stats, pageSize: o.pageSize }),
    inspect: o.inspect ? new InspectApi(control) : null,
    control,
    stats,
    writes,
    random,
    logger: o.logger,
    closing: closing.signal,
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  const url = `http://${host}:${port}`;

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      closing.abort();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };
  return {
    url,
    apiBaseUrl: `${url}/api/v1`,
    port,
    seed: o.seed,
    state: control,
    close,
    [Symbol.asyncDispose]: close,
  };
}
