// One call budget per account of an external API (providers limit calls per token), made on
// first use: each has its own rate, concurrency, 429 pause and learned rate, so one account's
// throttling or backlog never slows another. An optional total caps all accounts together. The
// limit of one account is its override (a token the provider grants more) or the default,
// times this process's share of it when shards split the account (shard-split.ts).
import { CallBudget, type CallBudgetOptions } from './call-budget.ts';
import { type Clock, systemClock } from './clock.ts';
import type { CallBudgetMetrics } from './metrics-hooks.ts';
import { StartPacer } from './start-pacer.ts';

export interface CallBudgetsOptions
  extends Pick<CallBudgetOptions, 'concurrency' | 'retryAfterMs' | 'adaptive' | 'intervalMs' | 'longWaitMs'> {
  /** Calls per second for each account, unless overridden. @default Infinity */
  perSecond?: number;
  /** Calls per second for all accounts together. @default Infinity (no total cap) */
  totalPerSecond?: number;
  /** The instruments of one account's budget (labelled with the account id). @default none */
  metricsFor?: (account: string) => CallBudgetMetrics;
  /** Told of each throttle an account's budget sees. @default none */
  onThrottled?: (account: string, retryAfterMs: number) => void;
  clock?: Clock;
}

interface Entry {
  budget: CallBudget;
  override: number | undefined;
  share: number;
}

export class CallBudgets {
  readonly #options: CallBudgetsOptions;
  readonly #clock: Clock;
  readonly #total: StartPacer | undefined;
  readonly #entries = new Map<string, Entry>();

  constructor(options: CallBudgetsOptions = {}) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    const total = options.totalPerSecond ?? Number.POSITIVE_INFINITY;
    this.#total = Number.isFinite(total)
      ? new StartPacer(total, this.#clock, options.intervalMs ?? 1000)
      : undefined;
  }

  /** The budget of `account`, made on first use. */
  for(account: string): CallBudget {
    return this.#entry(account).budget;
  }

  /** Gives `account` its own rate (calls per second), or back the default with undefined. */
  setOverride(account: string, perSecond: number | undefined): void {
    const e = this.#entry(account);
    if (e.override === perSecond) return;
    e.override = perSecond;
    e.budget.setLimit(this.#limitOf(e));
  }

  /** This process's fraction of `account`'s rate (1 / live shards). */
  setShare(account: string, share: number): void {
    if (!(share > 0 && share <= 1)) throw new RangeError(`a share is in (0, 1], got ${share}`);
    const e = this.#entry(account);
    if (e.share === share) return;
    e.share = share;
    e.budget.setLimit(this.#limitOf(e));
  }

  /** The account's whole rate before the shard split (override or default). */
  accountRate(account: string): number {
    return this.#entries.get(account)?.override ?? this.#options.perSecond ?? Number.POSITIVE_INFINITY;
  }

  get size(): number {
    return this.#entries.size;
  }

  *all(): Iterable<[string, CallBudget]> {
    for (const [account, e] of this.#entries) yield [account, e.budget];
  }

  close(): void {
    for (const e of this.#entries.values()) e.budget.close();
  }

  #limitOf(e: Entry): number {
    return (e.override ?? this.#options.perSecond ?? Number.POSITIVE_INFINITY) * e.share;
  }

  #entry(account: string): Entry {
    let e = this.#entries.get(account);
    if (e === undefined) {
      const o = this.#options;
      const intervalMs = o.intervalMs ?? 1000;
      const perSecond = o.perSecond ?? Number.POSITIVE_INFINITY;
      e = {
        override: undefined,
        share: 1,
        budget: new CallBudget({
          perInterval: (perSecond * intervalMs) / 1000,
          intervalMs,
          clock: this.#clock,
          ...(o.concurrency !== undefined && { concurrency: o.concurrency }),
          ...(o.retryAfterMs !== undefined && { retryAfterMs: o.retryAfterMs }),
          ...(o.adaptive !== undefined && { adaptive: o.adaptive }),
          ...(o.longWaitMs !== undefined && { longWaitMs: o.longWaitMs }),
          ...(this.#total !== undefined && { total: this.#total }),
          ...(o.metricsFor !== undefined && { metrics: o.metricsFor(account) }),
          ...(o.onThrottled !== undefined && {
            onThrottled: (ms: number) => o.onThrottled?.(account, ms),
          }),
        }),
      };
      this.#entries.set(account, e);
    }
    return e;
  }
}
