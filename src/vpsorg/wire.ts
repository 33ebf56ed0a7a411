// The VPS.org Servers API on the wire: the exact snake_case JSON shapes of the provider's docs
// (see ../shared/vps-api.md and the seeds). Shared by the client (which decodes them into the
// camelCase models of models.ts) and the simulator (which produces them), so both speak one
// contract. Nothing here knows about Kubernetes.

/** Server states the docs name. The provider may add others; decoders keep unknown ones verbatim. */
export const SERVER_STATES = [
  'provisioning',
  'active',
  'stopped',
  'suspended',
  'starting',
  'stopping',
  'rebooting',
] as const;
export type KnownServerState = (typeof SERVER_STATES)[number];

export interface WirePlanSummary {
  id: number;
  name: string;
  vcpus: number;
  memory: number;
  storage: number;
}

export interface WirePlanDetail extends WirePlanSummary {
  bandwidth: number;
}

export interface WireOs {
  id: number;
  name: string;
}

export interface WireResourceUsage {
  cpu_percent: number;
  memory_used: number;
  disk_used: number;
  bandwidth_used: number;
}

/** An item of `GET /servers/` (list shape). */
export interface WireServerListItem {
  id: number;
  name: string;
  hostname: string | null;
  status: string;
  ip_address: string | null;
  location: string;
  plan: WirePlanSummary;
  os: WireOs;
  created_at: string;
  updated_at: string;
}

/** `GET /servers/{id}/` (detail shape). */
export interface WireServerDetail extends Omit<WireServerListItem, 'plan'> {
  ipv6_address: string | null;
  plan: WirePlanDetail;
  backups_enabled: boolean;
  resource_usage: WireResourceUsage;
}

/** `POST /servers/` → 201. */
export interface WireCreatedServer extends WireServerListItem {
  backups_enabled: boolean;
  message: string;
}

/** `GET /servers/` → 200. `next` is an assumption of this project (pagination is undocumented). */
export interface WireServerList {
  count: number;
  next?: string | null;
  previous?: string | null;
  results: WireServerListItem[];
}

/** `POST /servers/` body. */
export interface WireCreateRequest {
  name: string;
  plan_id: number;
  os_id: number;
  location: string;
  hostname?: string;
  ssh_key_id?: number;
  backups_enabled?: boolean;
}

/** `PUT /servers/{id}/` body: all three required. `PATCH` sends any subset. */
export interface WireUpdateRequest {
  name: string;
  hostname: string;
  backups_enabled: boolean;
}
export type WirePatchRequest = Partial<WireUpdateRequest>;

/** `POST /servers/{id}/start|stop|reboot/` → 200. */
export interface WirePowerActionResponse {
  status: 'success';
  message: string;
  server: { id: number; name: string; status: string };
}

/** The 9 endpoints by name, as errors, metrics labels, simulator stats and fault rules call them. */
export const ENDPOINTS = [
  'list',
  'create',
  'get',
  'put',
  'patch',
  'delete',
  'start',
  'stop',
  'reboot',
] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

export const POWER_ACTIONS = ['start', 'stop', 'reboot'] as const;
export type PowerAction = (typeof POWER_ACTIONS)[number];

/** The provider's sample 201 message, reproduced verbatim by the simulator. */
export const CREATE_MESSAGE = 'Server is being provisioned. This may take 2-5 minutes.';

/** Message of a power action, e.g. "Server is starting". */
export const powerActionMessage = (action: PowerAction): string =>
  `Server is ${{ start: 'starting', stop: 'stopping', reboot: 'rebooting' }[action]}`;
