// What a handler answers, before it touches a socket: status, JSON (or raw text, as a proxy's
// error page is) and headers. Keeping replies as values lets the provider and inspection APIs
// be tested without HTTP and lets the HTTP layer decide to lose one (fault injection).

export interface Reply {
  status: number;
  /** A JSON body; absent for 204 and for text replies. */
  json?: unknown;
  /** A non-JSON body, e.g. the HTML error page of a proxy. */
  text?: { body: string; contentType: string };
  headers?: Record<string, string>;
}

export const jsonReply = (status: number, json: unknown, headers?: Record<string, string>): Reply =>
  headers === undefined ? { status, json } : { status, json, headers };

/** DRF's error shape for anything that is not a field error. */
export const detailReply = (status: number, detail: string, headers?: Record<string, string>): Reply =>
  jsonReply(status, { detail }, headers);

export const NOT_FOUND = 'Not found.';

/** What a body looks like on the wire. */
export function serializeReply(reply: Reply): { body: string; contentType: string | null } {
  if (reply.text !== undefined) return reply.text;
  if (reply.json === undefined) return { body: '', contentType: null };
  return { body: JSON.stringify(reply.json), contentType: 'application/json' };
}
