// The engine's only source of time. Every timer in src/runtime goes through a Clock so tests
// drive backoff, delayed requeues and resync with ManualClock instead of sleeping, and no
// Date.now()/setTimeout hides deep inside queue or informer logic.

/** A scheduled callback that can be cancelled; cancelling twice or after it fired is a no-op. */
export interface Timer {
  cancel(): void;
}

/** Wall time in milliseconds and one-shot timers. */
export interface Clock {
  now(): number;
  setTimer(ms: number, fire: () => void): Timer;
}

/**
 * The process clock. Reads globalThis at call time so vitest's fake timers also fake it
 * (needed where a library, p-queue, keeps its own Date.now()/setTimeout).
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fire) {
    const handle = setTimeout(fire, Math.max(0, ms));
    return { cancel: () => clearTimeout(handle) };
  },
};

/** Resolves after `ms` on `clock`, or rejects with the signal's reason once it aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = clock.setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

type Pending = { at: number; seq: number; fire: () => void; cancelled: boolean };

/**
 * A clock that only moves when told to. `advance(ms)` fires every timer that falls due, in
 * due order (ties in creation order), including timers those callbacks schedule within the
 * window — the way real time would.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #pending: Pending[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fire: () => void): Timer {
    const entry: Pending = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fire, cancelled: false };
    this.#pending.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** Timers scheduled and not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.#pending.filter((p) => !p.cancelled).length;
  }

  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      this.#pending = this.#pending.filter((p) => !p.cancelled);
      this.#pending.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#pending[0];
      if (next === undefined || next.at > target) break;
      this.#pending.shift();
      this.#now = Math.max(this.#now, next.at);
      next.fire();
    }
    this.#now = target;
  }
}
