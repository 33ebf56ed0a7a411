// Keys waiting for a future time before they join the work queue (client-go's delaying queue):
// one min-heap ordered by due time and a single clock timer armed for the earliest entry, so
// thousands of scheduled re-checks cost one timer. A key scheduled twice keeps the earlier time.

import type { Clock, Timer } from './clock.ts';

type Entry = { dueAt: number; seq: number; key: string };

/** Earlier due time first; equal times in the order they were scheduled. */
const before = (a: Entry, b: Entry): boolean => a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.seq < b.seq);

export class DelayedAdds {
  readonly #clock: Clock;
  readonly #onDue: (key: string) => void;
  /** The due time each key is waiting for; heap entries that disagree are stale and skipped. */
  readonly #dueAt = new Map<string, number>();
  readonly #heap: Entry[] = [];
  #seq = 0;
  #timer: Timer | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  constructor(clock: Clock, onDue: (key: string) => void) {
    this.#clock = clock;
    this.#onDue = onDue;
  }

  /** Keys still waiting. */
  get size(): number {
    return this.#dueAt.size;
  }

  /** Makes `key` due in `ms`, unless it is already due sooner. */
  schedule(key: string, ms: number): void {
    const dueAt = this.#clock.now() + ms;
    const current = this.#dueAt.get(key);
    if (current !== undefined && current <= dueAt) return;
    this.#dueAt.set(key, dueAt);
    this.#push({ dueAt, seq: this.#seq++, key });
    this.#arm();
  }

  /** Drops every waiting key and the timer (used at shutdown). */
  clear(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#dueAt.clear();
    this.#heap.length = 0;
  }

  #arm(): void {
    const head = this.#heap[0];
    if (head === undefined || head.dueAt >= this.#timerAt) return;
    this.#timer?.cancel();
    this.#timerAt = head.dueAt;
    this.#timer = this.#clock.setTimer(head.dueAt - this.#clock.now(), () => this.#fire());
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    for (let head = this.#heap[0]; head !== undefined && head.dueAt <= now; head = this.#heap[0]) {
      this.#pop();
      if (this.#dueAt.get(head.key) !== head.dueAt) continue;
      this.#dueAt.delete(head.key);
      this.#onDue(head.key);
    }
    this.#arm();
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === i) return;
      [heap[smallest], heap[i]] = [heap[i]!, heap[smallest]!];
      i = smallest;
    }
  }
}
