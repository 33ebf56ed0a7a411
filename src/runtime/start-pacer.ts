// A sliding-window limit on how many calls start per second, whose rate may change while calls
// wait: learned from 429s (AIMD), split between shards, or shared by several budgets as a total
// cap. p-queue's own `intervalCap`/`interval` is fixed when the queue is made and belongs to one
// queue, so it can express neither; the budget pauses its p-queue on this pacer's word instead.
import type { Clock } from './clock.ts';

export class StartPacer {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  #perSecond = Number.POSITIVE_INFINITY;
  /** Starts allowed in one window, and the window's length: cap / rate. */
  #cap = Number.POSITIVE_INFINITY;
  #windowMs = 0;
  /** Start times, oldest first; only the last `#cap` matter. */
  #starts: number[] = [];
  readonly #listeners = new Set<() => void>();

  /**
   * @param perSecond calls per second; Infinity: no limit.
   * @param intervalMs the window a rate is counted over, so `10/s` may start 10 at once and
   *   then waits, as the provider's token bucket of burst 10 would allow. @default 1000
   */
  constructor(perSecond: number, clock: Clock, intervalMs = 1000) {
    this.#clock = clock;
    this.#intervalMs = intervalMs;
    this.setRate(perSecond);
  }

  get perSecond(): number {
    return this.#perSecond;
  }

  setRate(perSecond: number): void {
    if (!(perSecond > 0)) throw new RangeError(`a call rate must be positive, got ${perSecond}`);
    this.#perSecond = perSecond;
    if (!Number.isFinite(perSecond)) {
      this.#cap = Number.POSITIVE_INFINITY;
      this.#windowMs = 0;
    } else {
      // A rate below one call per window still lets one call start per 1/rate seconds.
      this.#cap = Math.max(1, Math.floor((perSecond * this.#intervalMs) / 1000 + 1e-9));
      this.#windowMs = (this.#cap * 1000) / perSecond;
    }
    this.#changed();
  }

  /** Milliseconds until one more call may start; 0: now. */
  delay(): number {
    if (!Number.isFinite(this.#cap)) return 0;
    const now = this.#clock.now();
    const cap = this.#cap;
    if (this.#starts.length > cap) this.#starts.splice(0, this.#starts.length - cap);
    if (this.#starts.length < cap) return 0;
    const oldest = this.#starts[0] as number;
    return Math.max(0, Math.ceil(oldest + this.#windowMs - now));
  }

  /**
   * Milliseconds until a call may start when `ahead` calls start before it and none before
   * `notBeforeMs` from now (a pause): the window's rule applied to the calls to come, so a
   * burst the window still has room for costs nothing and each window after it costs one
   * window. delayAfter(0) is delay().
   */
  delayAfter(ahead: number, notBeforeMs = 0): number {
    const from = this.#clock.now() + Math.max(0, notBeforeMs);
    if (!Number.isFinite(this.#cap)) return Math.max(0, Math.ceil(from - this.#clock.now()));
    const cap = this.#cap;
    const starts = this.#starts.slice(-cap);
    // The j-th call to come starts one window after the start `cap` places before it.
    const j = Math.max(0, Math.floor(ahead));
    const earlier = starts[starts.length + (j % cap) - cap];
    const first = earlier === undefined ? from : Math.max(from, earlier + this.#windowMs);
    return Math.max(0, Math.ceil(first + Math.floor(j / cap) * this.#windowMs - this.#clock.now()));
  }

  /** Counts a call that started now. */
  took(): void {
    if (!Number.isFinite(this.#cap)) return;
    this.#starts.push(this.#clock.now());
    if (this.#starts.length > this.#cap * 2) this.#starts.splice(0, this.#starts.length - this.#cap);
    if (this.delay() > 0) this.#changed();
  }

  /**
   * Called when the pacer fills up or its rate changes: every budget that shares it re-checks
   * at once, before it starts another call. Returns the unsubscribe function.
   */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    for (const l of this.#listeners) l();
  }
}
