// The last moment a write can be refused: undici calls a request handler's onRequestStart (or
// a legacy handler's onConnect) on the connection, in the same turn of the event loop as it
// writes the request's first byte. A check asked only before fetch() leaves a window of a few
// turns, and maybe a TLS handshake, in which a paused process (SIGSTOP, a frozen VM) would send
// on waking what it decided before the pause. Used for the lease guard (docs/design.md,
// Fencing) by the Kubernetes requests and the VPS.org client alike.

/** Anything with undici's dispatch(options, handler). */
interface Dispatching {
  dispatch(options: never, handler: never): boolean;
}

/**
 * Wraps an undici handler so that `check` is asked right before the connection writes the
 * request; when it throws, the request is aborted with its error and nothing is written.
 * `onRefused` receives that error (fetch reports it as a bare "fetch failed").
 */
export function gatedHandler<H extends object>(
  handler: H,
  check: () => void,
  onRefused: (err: unknown) => void,
): H {
  const allowed = (abort: (err: Error) => void): boolean => {
    try {
      check();
      return true;
    } catch (err) {
      onRefused(err);
      abort(err as Error);
      return false;
    }
  };
  return new Proxy(handler, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const method = value.bind(target) as (...args: unknown[]) => unknown;
      if (prop === 'onRequestStart')
        return (controller: { abort(err: Error): void }, ...rest: unknown[]) =>
          allowed((err) => controller.abort(err)) ? method(controller, ...rest) : undefined;
      if (prop === 'onConnect')
        return (abort: (err: Error) => void, ...rest: unknown[]) =>
          allowed(abort) ? method(abort, ...rest) : undefined;
      return method;
    },
  });
}

/** A dispatcher that sends through `base`, asking `check` at the last moment (see gatedHandler). */
export function gatedDispatcher<D extends Dispatching>(
  base: D,
  check: () => void,
  onRefused: (err: unknown) => void,
): Dispatching {
  return {
    dispatch: (options: never, handler: never) =>
      base.dispatch(options, gatedHandler(handler as object, check, onRefused) as never),
  };
}

const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

/** The dispatcher Node's global fetch sends through (undefined if it cannot be found). */
export function globalDispatcher(): Dispatching | undefined {
  void globalThis.fetch; // Node loads its fetch, and sets the global dispatcher, on first use
  const d = (globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER];
  return typeof (d as Dispatching | undefined)?.dispatch === 'function' ? (d as Dispatching) : undefined;
}
