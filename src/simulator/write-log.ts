// Every write the provider API carried out (create, update, delete, start, stop, reboot), in
// order, whether or not its reply reached the client. The reliability suite reads it to prove
// "no reboot was sent twice for one request" and "no server was created twice": counters alone
// cannot say which server a write touched. Bounded so a long benchmark cannot grow it forever.

import type { EndpointName } from './endpoints.ts';

export const WRITE_ENDPOINTS = ['create', 'put', 'patch', 'delete', 'start', 'stop', 'reboot'] as const;
export type WriteEndpoint = (typeof WRITE_ENDPOINTS)[number];

export interface WriteRecord {
  /** Wall-clock ms since the epoch when the API acted. */
  at: number;
  endpoint: WriteEndpoint;
  account: string;
  serverId: number;
  /** What happened to the reply: delivered, lost (connection closed) or garbled by injection. */
  reply: 'delivered' | 'lost' | 'garbled';
}

/** The oldest records are dropped beyond this many. */
export const WRITE_LOG_LIMIT = 100_000;

export const isWriteEndpoint = (endpoint: EndpointName): endpoint is WriteEndpoint =>
  (WRITE_ENDPOINTS as readonly string[]).includes(endpoint);

export class WriteLog {
  #records: WriteRecord[] = [];

  add(record: WriteRecord): void {
    this.#records.push(record);
    if (this.#records.length > WRITE_LOG_LIMIT)
      this.#records.splice(0, this.#records.length - WRITE_LOG_LIMIT);
  }

  snapshot(): WriteRecord[] {
    return this.#records.map((r) => ({ ...r }));
  }

  clear(): void {
    this.#records = [];
  }
}
