// The one assertion every failure test of the VPS.org client starts with: the call rejected,
// and with a VpsApiError (not a TypeError from fetch, not an AbortError).
import { expect } from 'vitest';
import { VpsApiError } from '../../src/vpsorg/errors.ts';

/** The VpsApiError `call` rejects with; fails the test if it resolves or throws anything else. */
export async function failure(call: Promise<unknown>): Promise<VpsApiError> {
  const err = await call.then(
    () => expect.unreachable('the call succeeded'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VpsApiError);
  return err as VpsApiError;
}
