// Reads the HTTP status out of whatever a Kubernetes request threw (runtime's KubeStatusError, or
// client-node's ApiException where its generated APIs are used, as in tests), so callers can ask
// "was it a conflict / not found / forbidden?" in one place.

/** The HTTP status of a Kubernetes API error, or undefined for network and other errors. */
export function kubeStatus(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'number' && code >= 100 && code < 600) return code;
  }
  return undefined;
}

export const isConflict = (err: unknown): boolean => kubeStatus(err) === 409;
export const isNotFound = (err: unknown): boolean => kubeStatus(err) === 404;
export const isForbidden = (err: unknown): boolean => kubeStatus(err) === 403;

/** A one-line description of a Kubernetes API error, without the response body's noise. */
export function describeKubeError(err: unknown): string {
  const status = kubeStatus(err);
  if (status !== undefined && typeof err === 'object' && err !== null && 'body' in err) {
    const body = (err as { body: unknown }).body;
    let message: unknown;
    if (typeof body === 'string') {
      try {
        message = (JSON.parse(body) as { message?: unknown }).message;
      } catch {
        message = body.slice(0, 300);
      }
    } else if (typeof body === 'object' && body !== null) {
      message = (body as { message?: unknown }).message;
    }
    return `Kubernetes API ${status}: ${typeof message === 'string' ? message : 'error'}`;
  }
  return err instanceof Error ? err.message : String(err);
}
