// In-process access to a running simulator for tests and benchmarks: every server of every
// account, stats, faults, accounts, drift and time. The /_sim/ HTTP API is a thin adapter over
// this same object, so what a test does in-process and what another process does over HTTP agree.

import type { WireServerDetail } from '../vpsorg/wire.ts';
import { type FaultConfig, type FaultRule, parseFaultConfig } from './faults.ts';
import type { RateLimit, TokenBucketLimiter } from './rate-limit.ts';
import { renderDetail } from './render.ts';
import type { SimTime } from './sim-time.ts';
import type { SimulatorStats, StatsRecorder } from './stats.ts';
import type { AccountSpec, DriftChange, ServerRecord, SimulatorStore } from './store.ts';
import type { WriteLog, WriteRecord } from './write-log.ts';

/** A server as the inspection API shows it: the detail shape plus the owning account's name. */
export type SimServer = WireServerDetail & { account: string };

/** An account without its token. */
export interface AccountSummary {
  name: string;
  credits: number;
  servers: number;
}

export interface SimulatorState {
  /** Every server of every account, in id order, settled to the simulator's current time. */
  servers(): SimServer[];
  /** One server of any account, or undefined. */
  server(id: number): SimServer | undefined;
  stats(): SimulatorStats;
  /** Every write the API carried out, oldest first (at most WRITE_LOG_LIMIT). */
  writes(): WriteRecord[];
  /** Zeroes the counters and empties the write log. */
  resetStats(): void;
  /** The fault rules in force. */
  faults(): FaultRule[];
  /** Replaces the fault rules (null: none); checked like a config file. */
  setFaults(config: FaultConfig | null): void;
  /** Replaces the per-token rate limit (null: none). */
  setRateLimit(limit: RateLimit | null): void;
  /** One account's own limit (null: none; undefined: the shared one again). */
  setAccountRateLimit(account: string, limit: RateLimit | null | undefined): void;
  accounts(): AccountSummary[];
  /** Adds an account; throws when its name or token is taken. */
  addAccount(spec: AccountSpec): AccountSummary;
  /** Sets an account's credits; false when no account has that name. */
  setCredits(account: string, credits: number): boolean;
  /** Suspends a server (any account); undefined when it does not exist. */
  suspend(id: number): SimServer | undefined;
  unsuspend(id: number): SimServer | undefined;
  /** Changes a server behind the API's back (rename, power off, ...): drift for the operator to see. */
  drift(id: number, change: DriftChange): SimServer | undefined;
  /** Deletes a server behind the API's back; false when it does not exist. */
  deleteServer(id: number): boolean;
  /** The simulator's current time in ms since the epoch. */
  now(): number;
  /** Moves the simulator's clock forward by `ms` (transitions due by then complete). */
  advance(ms: number): void;
  /** Completes every pending transition now. */
  finishTransitions(): void;
}

export interface ControlDeps {
  store: SimulatorStore;
  stats: StatsRecorder;
  writes: WriteLog;
  limiter: TokenBucketLimiter;
  time: SimTime;
  faults: FaultRule[];
}

export class SimulatorControl implements SimulatorState {
  readonly #store: SimulatorStore;
  readonly #stats: StatsRecorder;
  readonly #writes: WriteLog;
  readonly #limiter: TokenBucketLimiter;
  readonly #time: SimTime;
  /** Read by the HTTP layer on every request, so a change applies to the next one. */
  faultRules: FaultRule[];

  constructor(deps: ControlDeps) {
    this.#store = deps.store;
    this.#stats = deps.stats;
    this.#writes = deps.writes;
    this.#limiter = deps.limiter;
    this.#time = deps.time;
    this.faultRules = deps.faults;
  }

  servers(): SimServer[] {
    return this.#store.allServers().map((s) => this.#render(s));
  }

  server(id: number): SimServer | undefined {
    return this.#renderOptional(this.#store.findServer(id));
  }

  stats(): SimulatorStats {
    return this.#stats.snapshot();
  }

  writes(): WriteRecord[] {
    return this.#writes.snapshot();
  }

  resetStats(): void {
    this.#stats.reset();
    this.#writes.clear();
  }

  faults(): FaultRule[] {
    return structuredClone(this.faultRules);
  }

  setFaults(config: FaultConfig | null): void {
    this.faultRules = parseFaultConfig(config, 'faults');
  }

  setRateLimit(limit: RateLimit | null): void {
    this.#limiter.setLimit(limit);
  }

  setAccountRateLimit(account: string, limit: RateLimit | null | undefined): void {
    this.#limiter.setLimitFor(account, limit);
  }

  accounts(): AccountSummary[] {
    return this.#store
      .accounts()
      .map(({ name, credits, servers }) => ({ name, credits, servers: servers.size }));
  }

  addAccount(spec: AccountSpec): AccountSummary {
    const account = this.#store.addAccount(spec);
    return { name: account.name, credits: account.credits, servers: 0 };
  }

  setCredits(name: string, credits: number): boolean {
    const account = this.#store.accountByName(name);
    if (account === undefined) return false;
    account.credits = credits;
    return true;
  }

  suspend(id: number): SimServer | undefined {
    return this.#renderOptional(this.#store.suspend(id));
  }

  unsuspend(id: number): SimServer | undefined {
    return this.#renderOptional(this.#store.unsuspend(id));
  }

  drift(id: number, change: DriftChange): SimServer | undefined {
    return this.#renderOptional(this.#store.drift(id, change));
  }

  deleteServer(id: number): boolean {
    return this.#store.removeServer(id);
  }

  now(): number {
    return this.#time.now();
  }

  advance(ms: number): void {
    this.#time.advance(ms);
  }

  finishTransitions(): void {
    this.#store.finishTransitions();
  }

  #render(server: ServerRecord): SimServer {
    return { ...renderDetail(server, this.#time.now()), account: server.account };
  }

  #renderOptional(server: ServerRecord | undefined): SimServer | undefined {
    return server === undefined ? undefined : this.#render(server);
  }
}
