// Which resources name which server: every VpsServer naming a server id in spec.serverId or
// status.serverId, and every one resolving a lost create (it may adopt any new server). A
// change or disappearance of a server at VPS.org, or a freed claim, reaches all of them, not
// only the one resource a single-owner map would remember. Fed by the informers' events; ids
// are kept across accounts (a resource's account is only known once its Secret is read), so a
// key may be told of a same-numbered server of another account: a wasted pass, never a miss.
// Keys are also kept by the server name they ask for, so a server nobody owns reaches the
// resources it may be a lost duplicate of (the leak report, leaks.ts).
import { claimantOrder } from './claims.ts';

interface Entry {
  ids: number[];
  /** `ids` and the servers it reports as leaked (status.leakedServerIds): it hears of all of them. */
  watched: number[];
  candidate: boolean;
  createdAt: string;
  /** The server name the resource asks for (spec.name, else metadata.name). */
  serverName: string;
}

interface Indexed {
  metadata?: {
    namespace?: string;
    name?: string;
    creationTimestamp?: string;
    annotations?: Record<string, string>;
  };
  spec?: { serverId?: unknown; name?: unknown };
  status?: { serverId?: unknown; leakedServerIds?: unknown };
}

const CREATE_PENDING = 'vps.org/create-pending';

export class ServerIndex {
  readonly #byKey = new Map<string, Entry>();
  readonly #byServer = new Map<number, Set<string>>();
  readonly #candidates = new Set<string>();
  readonly #byServerName = new Map<string, Set<string>>();

  /** Records (or re-records) what `raw` (a VpsServer as the API server sent it) names. */
  update(raw: unknown): void {
    const obj = raw as Indexed;
    const key = keyOf(obj);
    this.#drop(key);
    const ids = [obj.spec?.serverId, obj.status?.serverId].filter(
      (id, i, all): id is number => typeof id === 'number' && all.indexOf(id) === i,
    );
    const candidate = ids.length === 0 && obj.metadata?.annotations?.[CREATE_PENDING] !== undefined;
    const serverName = typeof obj.spec?.name === 'string' ? obj.spec.name : (obj.metadata?.name ?? '');
    const leaked = Array.isArray(obj.status?.leakedServerIds) ? obj.status.leakedServerIds : [];
    const watched = [
      ...ids,
      ...leaked.filter((id): id is number => typeof id === 'number' && !ids.includes(id)),
    ];
    const createdAt = obj.metadata?.creationTimestamp ?? '';
    this.#byKey.set(key, { ids, watched, candidate, createdAt, serverName });
    const named = this.#byServerName.get(serverName) ?? new Set<string>();
    named.add(key);
    this.#byServerName.set(serverName, named);
    for (const id of watched) {
      const keys = this.#byServer.get(id) ?? new Set<string>();
      keys.add(key);
      this.#byServer.set(id, keys);
    }
    if (candidate) this.#candidates.add(key);
  }

  /** Forgets `obj`; returns the server ids it named (their other claimants may want to know). */
  remove(raw: unknown): number[] {
    const key = keyOf(raw as Indexed);
    const ids = this.#byKey.get(key)?.ids ?? [];
    this.#drop(key);
    return ids;
  }

  /**
   * Every key naming any of `ids`, plus every lost-create candidate, oldest first (then
   * namespace/name): the documented order in which waiting claimants are tried.
   */
  keysNaming(ids: Iterable<number>): string[] {
    const keys = new Set<string>(this.#candidates);
    for (const id of ids) for (const k of this.#byServer.get(id) ?? []) keys.add(k);
    return [...keys]
      .map((k) => {
        const [namespace, name] = k.split('/');
        return { key: k, metadata: { namespace, name, creationTimestamp: this.#byKey.get(k)?.createdAt } };
      })
      .sort(claimantOrder)
      .map((x) => x.key);
  }

  /** The keys of the resources asking for a server named `serverName`. */
  keysAskingFor(serverName: string): string[] {
    return [...(this.#byServerName.get(serverName) ?? [])];
  }

  /** Whether a resource other than `key` asking for `serverName` has a create in flight. */
  creating(serverName: string, key: string): boolean {
    for (const k of this.#byServerName.get(serverName) ?? [])
      if (k !== key && this.#candidates.has(k)) return true;
    return false;
  }

  get size(): number {
    return this.#byKey.size;
  }

  #drop(key: string): void {
    const prev = this.#byKey.get(key);
    if (prev === undefined) return;
    for (const id of prev.watched) {
      const keys = this.#byServer.get(id);
      keys?.delete(key);
      if (keys?.size === 0) this.#byServer.delete(id);
    }
    const named = this.#byServerName.get(prev.serverName);
    named?.delete(key);
    if (named?.size === 0) this.#byServerName.delete(prev.serverName);
    this.#candidates.delete(key);
    this.#byKey.delete(key);
  }
}

const keyOf = (o: Indexed): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
