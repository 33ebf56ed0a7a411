// The client's view of VPS.org servers in camelCase, and the decoders that turn the provider's
// snake_case JSON (wire.ts) into it. Parse, don't trust: a response with a wrong type or a
// missing field throws a DecodeError naming the path (the client reports it as an invalid
// response), while a server state the docs do not name is kept verbatim for the controller to
// report. Fields beyond the contract are ignored, so the provider may add some.
import {
  array,
  at,
  boolean,
  fail,
  id,
  integer,
  type JsonObject,
  nested,
  nullableString,
  number,
  object,
  string,
  timestamp,
} from './shape.ts';
import type { KnownServerState, WireCreateRequest, WirePatchRequest, WireUpdateRequest } from './wire.ts';

/** A documented state, or any other the provider reports, verbatim (`string & {}` keeps completion). */
export type ServerState = KnownServerState | (string & {});

export interface PlanSummary {
  id: number;
  name: string;
  vcpus: number;
  /** MB. */
  memory: number;
  /** GB. */
  storage: number;
}

export interface PlanDetail extends PlanSummary {
  /** GB per month. */
  bandwidth: number;
}

export interface OperatingSystem {
  id: number;
  name: string;
}

export interface ResourceUsage {
  cpuPercent: number;
  /** MB. */
  memoryUsed: number;
  /** GB. */
  diskUsed: number;
  /** GB. */
  bandwidthUsed: number;
}

/** A server as `GET /servers/` lists it. */
export interface ServerSummary {
  id: number;
  name: string;
  hostname: string | null;
  status: ServerState;
  /** Null until provisioning has assigned one. */
  ipAddress: string | null;
  location: string;
  plan: PlanSummary;
  os: OperatingSystem;
  /** ISO-8601 UTC, as the provider wrote it (checked to parse). */
  createdAt: string;
  updatedAt: string;
}

/** A server as `GET /servers/{id}/` shows it. */
export interface ServerDetail extends Omit<ServerSummary, 'plan'> {
  ipv6Address: string | null;
  plan: PlanDetail;
  backupsEnabled: boolean;
  resourceUsage: ResourceUsage;
}

/** The 201 answer to a create: the new server, `provisioning`, and the provider's message. */
export interface CreatedServer extends ServerSummary {
  backupsEnabled: boolean;
  message: string;
}

/**
 * The 200 answer to PUT/PATCH. The docs show no body for it, so only the id is required and
 * the fields an update is about are read when present.
 */
export interface UpdatedServer {
  id: number;
  name?: string;
  hostname?: string | null;
  backupsEnabled?: boolean;
  status?: ServerState;
  updatedAt?: string;
}

/** The answer to start/stop/reboot: the provider accepted the action; the server is on its way. */
export interface PowerActionResult {
  /** "success" in every documented answer. */
  status: string;
  message: string;
  server: { id: number; name: string; status: ServerState };
}

/** One page of `GET /servers/`. */
export interface ServerListPage {
  count: number;
  /** Absolute or relative URL of the next page; null on the last. */
  next: string | null;
  results: ServerSummary[];
}

export interface CreateServerRequest {
  /** Letters, digits and hyphens. */
  name: string;
  planId: number;
  osId: number;
  /** Data-centre code, e.g. `us-west`. */
  location: string;
  /** FQDN. */
  hostname?: string;
  sshKeyId?: number;
  /** @default false (the provider's default) */
  backupsEnabled?: boolean;
}

/** PUT: every field is required by the provider. */
export interface UpdateServerRequest {
  name: string;
  hostname: string;
  backupsEnabled: boolean;
}

/** PATCH: only the fields given are sent and changed. */
export type PatchServerRequest = Partial<UpdateServerRequest>;

/** Query of `GET /servers/`; the docs name active, stopped and suspended for `status`. */
export interface ServerListFilter {
  status?: ServerState;
  location?: string;
}

// ——— decoders: wire JSON → models ———

function planSummary(obj: JsonObject, path: string): PlanSummary {
  return {
    id: id(obj, 'id', path),
    name: string(obj, 'name', path),
    vcpus: integer(obj, 'vcpus', path),
    memory: number(obj, 'memory', path),
    storage: number(obj, 'storage', path),
  };
}

function operatingSystem(obj: JsonObject, path: string): OperatingSystem {
  return { id: id(obj, 'id', path), name: string(obj, 'name', path) };
}

function serverSummary(obj: JsonObject, path: string): ServerSummary {
  return {
    id: id(obj, 'id', path),
    name: string(obj, 'name', path),
    hostname: nullableString(obj, 'hostname', path),
    status: string(obj, 'status', path),
    ipAddress: nullableString(obj, 'ip_address', path),
    location: string(obj, 'location', path),
    plan: planSummary(nested(obj, 'plan', path), at(path, 'plan')),
    os: operatingSystem(nested(obj, 'os', path), at(path, 'os')),
    createdAt: timestamp(obj, 'created_at', path),
    updatedAt: timestamp(obj, 'updated_at', path),
  };
}

export function decodeServerSummary(json: unknown, path = ''): ServerSummary {
  return serverSummary(object(json, path), path);
}

export function decodeServerDetail(json: unknown): ServerDetail {
  const obj = object(json, '');
  const plan = nested(obj, 'plan', '');
  const usage = nested(obj, 'resource_usage', '');
  return {
    ...serverSummary(obj, ''),
    ipv6Address: nullableString(obj, 'ipv6_address', ''),
    plan: { ...planSummary(plan, 'plan'), bandwidth: number(plan, 'bandwidth', 'plan') },
    backupsEnabled: boolean(obj, 'backups_enabled', ''),
    resourceUsage: {
      cpuPercent: number(usage, 'cpu_percent', 'resource_usage'),
      memoryUsed: number(usage, 'memory_used', 'resource_usage'),
      diskUsed: number(usage, 'disk_used', 'resource_usage'),
      bandwidthUsed: number(usage, 'bandwidth_used', 'resource_usage'),
    },
  };
}

export function decodeCreatedServer(json: unknown): CreatedServer {
  const obj = object(json, '');
  return {
    ...serverSummary(obj, ''),
    backupsEnabled: boolean(obj, 'backups_enabled', ''),
    message: string(obj, 'message', ''),
  };
}

export function decodeUpdatedServer(json: unknown): UpdatedServer {
  const obj = object(json, '');
  const has = (key: string) => obj[key] !== undefined;
  return {
    id: id(obj, 'id', ''),
    ...(has('name') && { name: string(obj, 'name', '') }),
    ...(has('hostname') && { hostname: nullableString(obj, 'hostname', '') }),
    ...(has('backups_enabled') && { backupsEnabled: boolean(obj, 'backups_enabled', '') }),
    ...(has('status') && { status: string(obj, 'status', '') }),
    ...(has('updated_at') && { updatedAt: timestamp(obj, 'updated_at', '') }),
  };
}

export function decodePowerActionResult(json: unknown): PowerActionResult {
  const obj = object(json, '');
  const server = nested(obj, 'server', '');
  return {
    status: string(obj, 'status', ''),
    message: string(obj, 'message', ''),
    server: {
      id: id(server, 'id', 'server'),
      name: string(server, 'name', 'server'),
      status: string(server, 'status', 'server'),
    },
  };
}

export function decodeServerListPage(json: unknown): ServerListPage {
  const obj = object(json, '');
  const results = array(obj.results, 'results').map((item, i) => decodeServerSummary(item, at('results', i)));
  const count = integer(obj, 'count', '');
  if (count < 0) fail('count', 'a number ≥ 0', count);
  return { count, next: nullableString(obj, 'next', ''), results };
}

// ——— encoders: models → wire JSON (only the fields given) ———

export function toWireCreateRequest(req: CreateServerRequest): WireCreateRequest {
  return {
    name: req.name,
    plan_id: req.planId,
    os_id: req.osId,
    location: req.location,
    ...(req.hostname !== undefined && { hostname: req.hostname }),
    ...(req.sshKeyId !== undefined && { ssh_key_id: req.sshKeyId }),
    ...(req.backupsEnabled !== undefined && { backups_enabled: req.backupsEnabled }),
  };
}

export function toWireUpdateRequest(req: UpdateServerRequest): WireUpdateRequest {
  return { name: req.name, hostname: req.hostname, backups_enabled: req.backupsEnabled };
}

export function toWirePatchRequest(req: PatchServerRequest): WirePatchRequest {
  return {
    ...(req.name !== undefined && { name: req.name }),
    ...(req.hostname !== undefined && { hostname: req.hostname }),
    ...(req.backupsEnabled !== undefined && { backups_enabled: req.backupsEnabled }),
  };
}
