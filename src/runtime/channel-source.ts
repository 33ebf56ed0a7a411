// An event source for changes that come from outside Kubernetes (controller-runtime's
// source.Channel, kube-rs's reconcile_on): whoever sees the change sends it here, a mapping
// turns it into object keys, and the keys go to the queue of the controller that watches the
// source. So the sender (the VPS.org observation) never sees a queue, and the controller does
// not know what a change is.

/** What a controller binds to: called once with the function that enqueues a key. */
export interface Source {
  bind(enqueue: (key: string) => void): void;
}

export class ChannelSource<T> implements Source {
  readonly #toKeys: (event: T) => Iterable<string>;
  readonly #sinks: ((key: string) => void)[] = [];

  /** `toKeys` maps one change to the keys to reconcile (none: nobody cares). */
  constructor(toKeys: (event: T) => Iterable<string>) {
    this.#toKeys = toKeys;
  }

  bind(enqueue: (key: string) => void): void {
    this.#sinks.push(enqueue);
  }

  /** Enqueues the keys of `event` on every bound controller; dropped if none is bound yet. */
  send(event: T): void {
    for (const key of this.#toKeys(event)) for (const enqueue of this.#sinks) enqueue(key);
  }
}
