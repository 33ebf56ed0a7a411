// The waiting line of one call budget, plugged into p-queue as its `queueClass`: calls are
// grouped in flows (e.g. one per namespace); the highest priority waiting anywhere goes first
// (user writes before periodic observation), and among the flows whose head has that priority,
// turns go round-robin. So one namespace's 3,000 creates cannot hold another's single patch
// behind them: it waits for at most one call per busy flow, not for the whole backlog.
// p-queue's own PriorityQueue is one sorted line (equal priorities first come, first served),
// with no notion of whose call it is; its `queueClass` hook is the place the library offers.

import type { Queue, QueueAddOptions, RunFunction } from 'p-queue';

/** What `PQueue.add()` passes through to the line; `flow` is ours. */
export type FairQueueOptions = QueueAddOptions & {
  /** Whose call this is; calls of one flow keep their own order. @default '' */
  flow?: string;
};

interface Item {
  run: RunFunction;
  id: string | undefined;
  priority: number;
  removed: boolean;
}

/** A FIFO with a moving head: O(1) push and shift, removed items skipped lazily. */
class Line {
  items: (Item | undefined)[] = [];
  head = 0;
  live = 0;

  push(item: Item): void {
    this.items.push(item);
    this.live++;
  }

  peek(): Item | undefined {
    while (this.head < this.items.length) {
      const item = this.items[this.head];
      if (item !== undefined && !item.removed) return item;
      this.items[this.head++] = undefined;
    }
    return undefined;
  }

  shift(): Item | undefined {
    const item = this.peek();
    if (item === undefined) return undefined;
    this.items[this.head++] = undefined;
    this.live--;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/** One flow: a FIFO per priority level. */
class Flow {
  readonly levels = new Map<number, Line>();
  size = 0;

  top(): number | undefined {
    let best: number | undefined;
    for (const [priority, line] of this.levels) {
      if (line.live > 0 && (best === undefined || priority > best)) best = priority;
    }
    return best;
  }
}

export class FairQueue implements Queue<RunFunction, FairQueueOptions> {
  readonly #flows = new Map<string, Flow>();
  /** Flows with waiting calls, in turn order; `#turn` is the index of the next one to serve. */
  #order: string[] = [];
  #turn = 0;
  readonly #byId = new Map<string, { item: Item; flow: string }>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Waiting calls per flow (flows with none are not listed). */
  sizes(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, flow] of this.#flows) if (flow.size > 0) out.set(name, flow.size);
    return out;
  }

  /**
   * How many waiting calls would start before one added now at `priority` to `flow`: every call
   * of a higher priority, the flow's own calls at that priority, and, the flows taking turns, up
   * to one more than that from each other flow at that priority.
   */
  ahead(priority: number, flow: string): number {
    let higher = 0;
    let own = 0;
    const others: number[] = [];
    for (const [name, f] of this.#flows) {
      for (const [p, line] of f.levels) {
        if (p > priority) higher += line.live;
        else if (p === priority && name === flow) own = line.live;
        else if (p === priority) others.push(line.live);
      }
    }
    return others.reduce((n, m) => n + Math.min(m, own + 1), higher + own);
  }

  enqueue(run: RunFunction, options: Partial<FairQueueOptions> = {}): void {
    const flowName = options.flow ?? '';
    const item: Item = { run, id: options.id, priority: options.priority ?? 0, removed: false };
    let flow = this.#flows.get(flowName);
    if (flow === undefined) {
      flow = new Flow();
      this.#flows.set(flowName, flow);
    }
    if (flow.size === 0) this.#order.push(flowName);
    let line = flow.levels.get(item.priority);
    if (line === undefined) {
      line = new Line();
      flow.levels.set(item.priority, line);
    }
    line.push(item);
    flow.size++;
    this.#size++;
    if (item.id !== undefined) this.#byId.set(item.id, { item, flow: flowName });
  }

  dequeue(): RunFunction | undefined {
    if (this.#size === 0) return undefined;
    // The highest priority any flow has waiting…
    let best = Number.NEGATIVE_INFINITY;
    const tops = this.#order.map((name) => {
      const top = this.#flows.get(name)?.top() ?? Number.NEGATIVE_INFINITY;
      if (top > best) best = top;
      return top;
    });
    // …taken from the first flow, from the current turn on, whose head has it.
    for (let k = 0; k < this.#order.length; k++) {
      const at = (this.#turn + k) % this.#order.length;
      if (tops[at] !== best) continue;
      const name = this.#order[at] as string;
      const flow = this.#flows.get(name) as Flow;
      const item = flow.levels.get(best)?.shift() as Item;
      this.#taken(item, name, flow);
      if (flow.size === 0) {
        this.#order.splice(at, 1);
        this.#turn = at;
      } else {
        this.#turn = at + 1;
      }
      if (this.#turn >= this.#order.length) this.#turn = 0;
      return item.run;
    }
    return undefined;
  }

  remove(id: string): void {
    const found = this.#byId.get(id);
    if (found === undefined || found.item.removed) return;
    found.item.removed = true;
    const flow = this.#flows.get(found.flow) as Flow;
    const line = flow.levels.get(found.item.priority) as Line;
    line.live--;
    this.#taken(found.item, found.flow, flow);
    if (flow.size === 0) {
      const at = this.#order.indexOf(found.flow);
      this.#order.splice(at, 1);
      if (at < this.#turn) this.#turn--;
      if (this.#turn >= this.#order.length) this.#turn = 0;
    }
  }

  setPriority(id: string, priority: number): void {
    const found = this.#byId.get(id);
    if (found === undefined || found.item.removed) {
      throw new ReferenceError(`No promise function with the id "${id}" exists in the queue.`);
    }
    if (found.item.priority === priority) return;
    const { run } = found.item;
    this.remove(id);
    this.enqueue(run, { id, priority, flow: found.flow });
  }

  filter(options: Readonly<Partial<FairQueueOptions>>): RunFunction[] {
    const out: RunFunction[] = [];
    for (const [name, flow] of this.#flows) {
      if (options.flow !== undefined && options.flow !== name) continue;
      for (const [priority, line] of flow.levels) {
        if (options.priority !== undefined && options.priority !== priority) continue;
        for (let i = line.head; i < line.items.length; i++) {
          const item = line.items[i];
          if (item !== undefined && !item.removed) out.push(item.run);
        }
      }
    }
    return out;
  }

  #taken(item: Item, name: string, flow: Flow): void {
    flow.size--;
    this.#size--;
    if (item.id !== undefined) this.#byId.delete(item.id);
    // An idle namespace leaves nothing behind: flows come and go with the namespaces.
    if (flow.size === 0) this.#flows.delete(name);
  }
}
