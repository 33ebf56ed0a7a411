// The simulated provider's memory: accounts (token, credits, servers) and every server with
// its state. Transitions are evaluated lazily from timestamps whenever a server is read, so a
// store of 10,000 idle servers holds no timer and costs nothing between requests. No HTTP here:
// the provider API and the inspection API both drive this class, and unit tests drive it alone.

import type { KnownServerState, PowerAction, WireOs } from '../vpsorg/wire.ts';
import { type AddressPair, AddressPool } from './addresses.ts';
import type { Catalogue, CataloguePlan } from './catalogue.ts';
import { type Random, uniform } from './random.ts';
import {
  decidePowerAction,
  isTransitional,
  type SettledState,
  TRANSITION_TARGET,
  type TransitionalState,
  updateRefusal,
} from './server-state.ts';
import type { SecondsRange, SimTime } from './sim-time.ts';
import type { CreateFields, UpdateFields } from './validation.ts';

/** The first server id, as in the provider's samples (12345, 12346, ...). */
export const FIRST_SERVER_ID = 12345;

export interface AccountSpec {
  /** A label for logs and the inspection API; the token is never shown. */
  name: string;
  /** The API token clients send as `Authorization: Bearer <token>`. */
  token: string;
  /** Credits available for creates. */
  credits: number;
}

export interface Account extends AccountSpec {
  servers: Map<number, ServerRecord>;
}

export interface ServerRecord {
  id: number;
  account: string;
  name: string;
  hostname: string | null;
  status: KnownServerState;
  /** The settled state a transitional status ends in, and when (simulator ms). */
  transition: { to: SettledState; dueAt: number } | null;
  /** The state to return to when a suspension is lifted. */
  suspendedFrom: SettledState | null;
  addresses: AddressPair | null;
  location: string;
  plan: CataloguePlan;
  os: WireOs;
  sshKeyId: number | null;
  backupsEnabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface StoreOptions {
  catalogue: Catalogue;
  time: SimTime;
  random: Random;
  provisioningSeconds: SecondsRange;
  transitionSeconds: SecondsRange;
  accounts: AccountSpec[];
}

export interface ListFilter {
  status?: string;
  location?: string;
}

/** What a write did: the server as it now is, or why nothing happened. */
export type Outcome =
  | { kind: 'ok'; server: ServerRecord }
  | { kind: 'notFound' }
  | { kind: 'refused'; message: string }
  | { kind: 'paymentRequired'; message: string };

/** An out-of-band change made behind the API's back (drift). */
export interface DriftChange extends UpdateFields {
  status?: KnownServerState;
}

/** An account name or token that is already taken. */
export class AccountConflictError extends Error {
  override name = 'AccountConflictError';
}

export class SimulatorStore {
  readonly catalogue: Catalogue;
  readonly #time: SimTime;
  readonly #random: Random;
  readonly #provisioning: SecondsRange;
  readonly #transition: SecondsRange;
  readonly #accountsByName = new Map<string, Account>();
  readonly #accountsByToken = new Map<string, Account>();
  readonly #serversById = new Map<number, ServerRecord>();
  readonly #addresses = new AddressPool();
  #nextId = FIRST_SERVER_ID;

  constructor(options: StoreOptions) {
    this.catalogue = options.catalogue;
    this.#time = options.time;
    this.#random = options.random;
    this.#provisioning = options.provisioningSeconds;
    this.#transition = options.transitionSeconds;
    for (const spec of options.accounts) this.addAccount(spec);
  }

  now(): number {
    return this.#time.now();
  }

  // --- accounts -------------------------------------------------------------------------

  /** Adds an account; throws when its name or token is already in use. */
  addAccount(spec: AccountSpec): Account {
    if (this.#accountsByName.has(spec.name))
      throw new AccountConflictError(`account "${spec.name}" already exists`);
    if (this.#accountsByToken.has(spec.token)) {
      throw new AccountConflictError(`account "${spec.name}": token already in use by another account`);
    }
    const account: Account = { ...spec, servers: new Map() };
    this.#accountsByName.set(spec.name, account);
    this.#accountsByToken.set(spec.token, account);
    return account;
  }

  accountByToken(token: string): Account | undefined {
    return this.#accountsByToken.get(token);
  }

  accountByName(name: string): Account | undefined {
    return this.#accountsByName.get(name);
  }

  accounts(): Account[] {
    return [...this.#accountsByName.values()];
  }

  // --- the provider API -----------------------------------------------------------------

  /** The account's servers in id order, settled to the current time and filtered. */
  listServers(account: Account, filter: ListFilter = {}): ServerRecord[] {
    const result: ServerRecord[] = [];
    for (const server of account.servers.values()) {
      this.#settle(server);
      if (filter.status !== undefined && server.status !== filter.status) continue;
      if (filter.location !== undefined && server.location !== filter.location) continue;
      result.push(server);
    }
    return result;
  }

  /** One server of the account; another account's server does not exist for it. */
  getServer(account: Account, id: number): ServerRecord | undefined {
    const server = account.servers.get(id);
    if (server !== undefined) this.#settle(server);
    return server;
  }

  /** Deducts the plan's cost and starts provisioning, or refuses with 402 when credits fall short. */
  createServer(account: Account, fields: CreateFields): Outcome {
    const plan = this.catalogue.plans.find((p) => p.id === fields.planId);
    const os = this.catalogue.os.find((o) => o.id === fields.osId);
    if (plan === undefined || os === undefined) throw new Error('createServer needs validated fields');
    if (plan.cost > account.credits) {
      return {
        kind: 'paymentRequired',
        message:
          `Insufficient credits: a "${plan.name}" server costs ${plan.cost} credits ` +
          `and the account has ${account.credits}.`,
      };
    }
    account.credits -= plan.cost;
    const now = this.now();
    const server: ServerRecord = {
      id: this.#nextId++,
      account: account.name,
      name: fields.name,
      hostname: fields.hostname,
      status: 'provisioning',
      transition: { to: 'active', dueAt: now + this.#duration(this.#provisioning) },
      suspendedFrom: null,
      addresses: null,
      location: fields.location,
      plan,
      os,
      sshKeyId: fields.sshKeyId,
      backupsEnabled: fields.backupsEnabled,
      createdAt: now,
      updatedAt: now,
    };
    account.servers.set(server.id, server);
    this.#serversById.set(server.id, server);
    return { kind: 'ok', server };
  }

  /** PUT/PATCH: changes the fields given, unless the server is busy. */
  updateServer(account: Account, id: number, fields: UpdateFields): Outcome {
    const server = this.getServer(account, id);
    if (server === undefined) return { kind: 'notFound' };
    const refusal = updateRefusal(server.status);
    if (refusal !== null) return { kind: 'refused', message: refusal };
    this.#applyFields(server, fields);
    // Like Django's auto_now: every save moves updated_at, even when no value changed.
    server.updatedAt = this.now();
    return { kind: 'ok', server };
  }

  /** Deletes in any state (the docs list no refusal); the addresses go back to the pool. */
  deleteServer(account: Account, id: number): boolean {
    const server = account.servers.get(id);
    if (server === undefined) return false;
    this.#remove(server);
    return true;
  }

  /** start/stop/reboot: enters the transitional state, or refuses with the provider's 400 message. */
  powerAction(account: Account, id: number, action: PowerAction): Outcome {
    const server = this.getServer(account, id);
    if (server === undefined) return { kind: 'notFound' };
    const decision = decidePowerAction(server.status, action);
    if (!decision.ok) return { kind: 'refused', message: decision.message };
    this.#enter(server, decision.enters);
    return { kind: 'ok', server };
  }

  // --- out of band (inspection API, tests) ---------------------------------------------

  /** Every server of every account, settled, in id order. */
  allServers(): ServerRecord[] {
    const servers = [...this.#serversById.values()];
    for (const server of servers) this.#settle(server);
    return servers;
  }

  findServer(id: number): ServerRecord | undefined {
    const server = this.#serversById.get(id);
    if (server !== undefined) this.#settle(server);
    return server;
  }

  /** Suspends at once; a server mid-transition is first taken to where it was going. */
  suspend(id: number): ServerRecord | undefined {
    const server = this.findServer(id);
    if (server === undefined || server.status === 'suspended') return server;
    const settled = this.#finishNow(server);
    server.suspendedFrom = settled;
    this.#setStatus(server, 'suspended');
    return server;
  }

  /** Lifts a suspension: back to the state the server had before it. */
  unsuspend(id: number): ServerRecord | undefined {
    const server = this.findServer(id);
    if (server === undefined || server.status !== 'suspended') return server;
    this.#setStatus(server, server.suspendedFrom ?? 'stopped');
    server.suspendedFrom = null;
    return server;
  }

  /**
   * Changes a server as a human in the provider's web console would: fields and/or status,
   * with no state rule applied. A transitional status runs its normal course from now.
   */
  drift(id: number, change: DriftChange): ServerRecord | undefined {
    const server = this.findServer(id);
    if (server === undefined) return undefined;
    this.#applyFields(server, change);
    const status = change.status;
    if (status === 'suspended') this.suspend(id);
    else if (status !== undefined && isTransitional(status)) this.#enter(server, status);
    else if (status !== undefined) {
      server.transition = null;
      server.suspendedFrom = null;
      this.#setStatus(server, status);
    }
    server.updatedAt = this.now();
    return server;
  }

  /** Deletes a server of any account behind its owner's back. */
  removeServer(id: number): boolean {
    const server = this.#serversById.get(id);
    if (server === undefined) return false;
    this.#remove(server);
    return true;
  }

  /** Completes every pending transition now, as if their time had passed. */
  finishTransitions(): void {
    for (const server of this.#serversById.values()) this.#finishNow(server);
  }

  // --- state changes --------------------------------------------------------------------

  #duration(range: SecondsRange): number {
    return this.#time.wallMs(uniform(this.#random, range.min, range.max));
  }

  #enter(server: ServerRecord, state: TransitionalState): void {
    const range = state === 'provisioning' ? this.#provisioning : this.#transition;
    server.status = state;
    server.updatedAt = this.now();
    server.transition = { to: TRANSITION_TARGET[state], dueAt: server.updatedAt + this.#duration(range) };
  }

  /** Applies a due transition, dated when it fell due (not when someone looked). */
  #settle(server: ServerRecord): void {
    const transition = server.transition;
    if (transition === null || transition.dueAt > this.now()) return;
    server.transition = null;
    this.#setStatus(server, transition.to, transition.dueAt);
  }

  /** Ends a pending transition at once; returns the settled state. */
  #finishNow(server: ServerRecord): SettledState {
    if (server.transition !== null) {
      const to = server.transition.to;
      server.transition = null;
      this.#setStatus(server, to);
      return to;
    }
    return server.status === 'stopped' ? 'stopped' : (server.suspendedFrom ?? 'active');
  }

  #setStatus(server: ServerRecord, status: KnownServerState, at = this.now()): void {
    server.status = status;
    server.updatedAt = Math.max(server.updatedAt, at);
    // Addresses are assigned when a server first runs and kept until it is deleted.
    if (status === 'active' && server.addresses === null) server.addresses = this.#addresses.allocate();
  }

  #applyFields(server: ServerRecord, fields: UpdateFields): void {
    if (fields.name !== undefined) server.name = fields.name;
    if (fields.hostname !== undefined) server.hostname = fields.hostname;
    if (fields.backupsEnabled !== undefined) server.backupsEnabled = fields.backupsEnabled;
  }

  #remove(server: ServerRecord): void {
    this.#accountsByName.get(server.account)?.servers.delete(server.id);
    this.#serversById.delete(server.id);
    if (server.addresses !== null) this.#addresses.release(server.addresses);
  }
}
