// The nine provider endpoints by name and how a request's method and path map to one. Names
// are what stats count and what fault rules target; matching is exact (trailing slash
// included) because the real API's router is, and the operator must get the paths right.

import { ENDPOINTS, type Endpoint } from '../vpsorg/wire.ts';

/** The shared endpoint names of the contract (src/vpsorg/wire.ts). */
export { ENDPOINTS };
export type EndpointName = Endpoint;

export const API_PREFIX = '/api/v1/servers/';

/** Where a provider path leads: an endpoint, a path with other methods, or nowhere. */
export type RouteMatch =
  | { kind: 'endpoint'; endpoint: EndpointName; serverId: number | null }
  | { kind: 'methodNotAllowed'; allowed: string[] }
  | { kind: 'notFound' };

const COLLECTION: Record<string, EndpointName> = { GET: 'list', POST: 'create' };
const ITEM: Record<string, EndpointName> = { GET: 'get', PUT: 'put', PATCH: 'patch', DELETE: 'delete' };
const ACTIONS: Record<string, EndpointName> = { start: 'start', stop: 'stop', reboot: 'reboot' };

/** Matches `pathname` (no query string) for `method`. */
export function matchRoute(method: string, pathname: string): RouteMatch {
  if (!pathname.startsWith(API_PREFIX)) return { kind: 'notFound' };
  const rest = pathname.slice(API_PREFIX.length);
  if (rest === '') return byMethod(COLLECTION, method, null);
  const item = /^(\d{1,15})\/(?:(start|stop|reboot)\/)?$/.exec(rest);
  if (item === null) return { kind: 'notFound' };
  const serverId = Number(item[1]);
  const action = item[2];
  if (action === undefined) return byMethod(ITEM, method, serverId);
  return byMethod({ POST: ACTIONS[action] as EndpointName }, method, serverId);
}

function byMethod(table: Record<string, EndpointName>, method: string, serverId: number | null): RouteMatch {
  const endpoint = table[method];
  if (endpoint === undefined) return { kind: 'methodNotAllowed', allowed: Object.keys(table) };
  return { kind: 'endpoint', endpoint, serverId };
}
