// The public face of the VPS.org client: what the rest of the operator imports. The wire shapes
// (wire.ts) stay out of it on purpose; only the simulator speaks snake_case.
export {
  type CallEvent,
  type CallOptions,
  DEFAULT_BASE_URL,
  DEFAULT_MAX_LIST_PAGES,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_USER_AGENT,
  type ListCallOptions,
  ListCursor,
  VpsOrgClient,
  type VpsOrgClientOptions,
} from './client.ts';
export {
  ENDPOINTS,
  type Endpoint,
  ERROR_KINDS,
  type ErrorKind,
  type HttpMethod,
  isNotFound,
  isTerminal,
  isTransient,
  isUnauthorized,
  isVpsApiError,
  VpsApiError,
} from './errors.ts';
export type {
  CreatedServer,
  CreateServerRequest,
  OperatingSystem,
  PatchServerRequest,
  PlanDetail,
  PlanSummary,
  PowerActionResult,
  ResourceUsage,
  ServerDetail,
  ServerListFilter,
  ServerState,
  ServerSummary,
  UpdatedServer,
  UpdateServerRequest,
} from './models.ts';
