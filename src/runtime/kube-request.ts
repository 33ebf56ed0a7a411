// One request to the Kubernetes API: a method, a path and a JSON body, sent with client-node's
// KubeConfig (cluster, TLS, credentials) and HTTP library. Not client-node's generated API
// classes: using any of them pulls in every generated API and model of Kubernetes (~1,500
// modules, 20-30 MiB resident even bundled; docs/performance.md), for the dozen requests the
// operator makes. Objects travel as the API server's JSON (timestamps stay strings).
import {
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  type KubeConfig,
  RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import { gatedHandler } from '../net/write-gate.ts';
import { type ApiStatus, KubeStatusError } from './list-watch.ts';

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** API path, e.g. `/api/v1/namespaces/ns/secrets/name` (segments already encoded). */
  path: string;
  query?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /** @default application/json; PATCH needs the patch type, e.g. application/merge-patch+json */
  contentType?: string;
  signal?: AbortSignal;
  /**
   * Called after the last await before the request's bytes go out (credentials are applied
   * first, and an exec or OIDC plugin can take a while), and again when fetch hands the request
   * to the connection; throwing refuses the request and nothing is sent. The lease guard: a
   * leader paused in between must not send on waking.
   */
  beforeSend?: () => void;
}

const http = new IsomorphicFetchHttpLibrary();

const METHODS: Record<KubeRequest['method'], HttpMethod> = {
  GET: HttpMethod.GET,
  POST: HttpMethod.POST,
  PUT: HttpMethod.PUT,
  PATCH: HttpMethod.PATCH,
  DELETE: HttpMethod.DELETE,
};

/** Sends the request and returns the raw answer, whatever its status (watches stream its body). */
export async function sendKubeRequest(kc: KubeConfig, request: KubeRequest): Promise<ResponseContext> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(server.replace(/\/$/, '') + request.path);
  for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
  const context = new RequestContext(url.toString(), METHODS[request.method]);
  context.setHeaderParam('Accept', 'application/json');
  if (request.body !== undefined) {
    context.setHeaderParam('Content-Type', request.contentType ?? 'application/json');
    context.setBody(JSON.stringify(request.body));
  }
  if (request.signal !== undefined) context.setSignal(request.signal);
  await kc.applySecurityAuthentication(context);
  if (request.beforeSend === undefined) return http.send(context).toPromise();
  // Asked now, after the last await of ours, and again by the connection right before it writes
  // the request's first byte (net/write-gate.ts): fetch takes a few turns of the event loop,
  // and maybe a TLS handshake, to get there, and a process paused in between must not send.
  const beforeSend = request.beforeSend;
  beforeSend();
  let refused: unknown;
  const dispatcher = context.getDispatcher();
  if (dispatcher !== undefined)
    context.setDispatcher(
      dispatcher.compose(
        (dispatch) => (opts, handler) =>
          dispatch(
            opts,
            gatedHandler(handler, beforeSend, (err) => {
              refused = err;
            }),
          ),
      ),
    );
  return http
    .send(context)
    .toPromise()
    .catch((err: unknown) => {
      throw refused ?? err;
    });
}

/** Sends the request; the parsed JSON of a 2xx answer, else a KubeStatusError with the server's Status. */
export async function kubeRequest<T>(kc: KubeConfig, request: KubeRequest): Promise<T> {
  const response = await sendKubeRequest(kc, request);
  if (response.httpStatusCode < 200 || response.httpStatusCode > 299) throw await statusError(response);
  const text = await response.body.text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** The error Status of a failed answer; a body that is not a Status (a proxy's page) becomes its message. */
export async function statusError(response: ResponseContext): Promise<KubeStatusError> {
  const text = await response.body.text().catch(() => '');
  let status: ApiStatus = { message: text.slice(0, 500) };
  try {
    const parsed = JSON.parse(text) as ApiStatus & { kind?: string };
    if (parsed.kind === 'Status') status = parsed;
  } catch {
    // Not JSON: keep the raw text as the message.
  }
  return new KubeStatusError(status, response.httpStatusCode);
}

/** One path segment, encoded. */
export const segment = (s: string): string => encodeURIComponent(s);
