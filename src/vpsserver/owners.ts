// Which resource manages which server of which account, as this process has seen them
// reconciled: routes a change seen at VPS.org to the resource to reconcile, and keeps a lost
// create from adopting a server that is already someone's. Kept per account, so a server id is
// never confused across tokens. It also remembers every server it ever recorded, after its
// resource is gone: the leak report (leaks.ts) must not call a server someone owned a leak.

export class ServerOwners {
  /** account id → server id → resource key */
  readonly #byAccount = new Map<string, Map<number, string>>();
  /** account id → every server id ever added (a few bytes per server: kept for the process's life) */
  readonly #ever = new Map<string, Set<number>>();

  /** Records that resource `key` manages server `serverId` of the account. */
  add(accountId: string, serverId: number, key: string): void {
    let servers = this.#byAccount.get(accountId);
    if (servers === undefined) {
      servers = new Map();
      this.#byAccount.set(accountId, servers);
    }
    servers.set(serverId, key);
    let ever = this.#ever.get(accountId);
    if (ever === undefined) {
      ever = new Set();
      this.#ever.set(accountId, ever);
    }
    ever.add(serverId);
  }

  /** Whether any resource managed server `serverId` of the account since this process started. */
  everOwned(accountId: string, serverId: number): boolean {
    return this.#ever.get(accountId)?.has(serverId) ?? false;
  }

  /** Forgets every server resource `key` managed (its finalizer is gone). */
  remove(key: string): void {
    for (const servers of this.#byAccount.values()) {
      for (const [id, owner] of servers) if (owner === key) servers.delete(id);
    }
  }

  /** The resources managing any of `serverIds` of the account (each once). */
  ownersOf(accountId: string, serverIds: Iterable<number>): string[] {
    const servers = this.#byAccount.get(accountId);
    if (servers === undefined) return [];
    const keys = new Set<string>();
    for (const id of serverIds) {
      const key = servers.get(id);
      if (key !== undefined) keys.add(key);
    }
    return [...keys];
  }

  /** The servers of the account that resources other than `key` manage. */
  claimedByOthers(accountId: string, key: string): Set<number> {
    const ids = new Set<number>();
    for (const [id, owner] of this.#byAccount.get(accountId) ?? []) if (owner !== key) ids.add(id);
    return ids;
  }
}
