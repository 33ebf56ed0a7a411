// The create-pending and reboot-pending markers: set before the call, settled after a failed
// call only when the provider certainly did nothing, cleared only by the status that supersedes
// them.
import { describe, expect, it } from 'vitest';
import {
  clearSupersededMarkers,
  createPendingOf,
  formatCreatePending,
  markCreatePending,
  markRebootPending,
  rebootPendingOf,
  settleFailedCall,
  supersededMarkers,
} from '../../src/vpsserver/markers.ts';
import type { ProviderFailure } from '../../src/vpsserver/provider.ts';
import { CREATE_PENDING_ANNOTATION, REBOOT_PENDING_ANNOTATION } from '../../src/vpsserver/types.ts';
import { NOW, recordingWriter, vps } from '../fixtures/vps-server.ts';

const failure = (status?: number): ProviderFailure => ({
  terminal: false,
  reason: 'ProviderUnavailable',
  message: 'VPS.org create server: failed',
  detail: 'VPS.org create server: failed',
  ...(status !== undefined && { status }),
});

describe('create-pending marker', () => {
  it('is written with the time and the name the create will use, and read back as such', async () => {
    const writer = recordingWriter();
    const marked = await markCreatePending(writer, vps(), { at: NOW, name: 'web-01' });
    expect(writer.changes).toEqual([
      { annotations: { [CREATE_PENDING_ANNOTATION]: '{"at":"2026-11-25T12:00:00.000Z","name":"web-01"}' } },
    ]);
    expect([marked.metadata.resourceVersion, createPendingOf(marked)]).toEqual([
      '2',
      { at: NOW, name: 'web-01' },
    ]);
  });

  it('reads an unreadable marker as set at the epoch for the desired name, so it is never ignored', () => {
    const marked = vps({ annotations: { [CREATE_PENDING_ANNOTATION]: 'not json' }, spec: { name: 'db' } });
    expect(createPendingOf(marked)).toEqual({ at: 0, name: 'db' });
  });

  it('is absent on a resource that never created', () => {
    expect(createPendingOf(vps())).toBeUndefined();
  });
});

describe('reboot-pending marker', () => {
  it('is written with the rebootRequestedAt value it is for', async () => {
    const writer = recordingWriter();
    const marked = await markRebootPending(writer, vps(), 't1');
    expect([writer.changes, rebootPendingOf(marked)]).toEqual([
      [{ annotations: { [REBOOT_PENDING_ANNOTATION]: 't1' } }],
      't1',
    ]);
  });
});

describe('settleFailedCall', () => {
  const marked = vps({
    annotations: { [CREATE_PENDING_ANNOTATION]: formatCreatePending({ at: NOW, name: 'web-01' }) },
  });

  it.each([400, 402, 409, 429, 502, 503])(
    'clears the marker when the provider refused with %i',
    async (status) => {
      const writer = recordingWriter();
      const after = await settleFailedCall(writer, marked, CREATE_PENDING_ANNOTATION, failure(status));
      expect([writer.changes, createPendingOf(after)]).toEqual([
        [{ annotations: { [CREATE_PENDING_ANNOTATION]: null } }],
        undefined,
      ]);
    },
  );

  it.each([
    ['a network error', undefined],
    ['a 500', 500],
    ['a 504', 504],
  ])('keeps the marker after %s, whose outcome is unknown', async (_what, status) => {
    const writer = recordingWriter();
    const after = await settleFailedCall(writer, marked, CREATE_PENDING_ANNOTATION, failure(status));
    expect([writer.changes, after]).toEqual([[], marked]);
  });
});

describe('supersededMarkers', () => {
  const both = {
    [CREATE_PENDING_ANNOTATION]: formatCreatePending({ at: NOW, name: 'web-01' }),
    [REBOOT_PENDING_ANNOTATION]: 't1',
  };
  it.each([
    ['nothing while status has no server id nor reboot', both, {}, []],
    ['create-pending once status has the server id', both, { serverId: 7 }, [CREATE_PENDING_ANNOTATION]],
    [
      'reboot-pending once status records its value',
      both,
      { lastRebootRequestedAt: 't1' },
      [REBOOT_PENDING_ANNOTATION],
    ],
    ['not reboot-pending while status records an older value', both, { lastRebootRequestedAt: 't0' }, []],
    [
      'both when status has both',
      both,
      { serverId: 7, lastRebootRequestedAt: 't1' },
      [CREATE_PENDING_ANNOTATION, REBOOT_PENDING_ANNOTATION],
    ],
    ['nothing when no marker is set', {}, { serverId: 7, lastRebootRequestedAt: 't1' }, []],
  ])('names %s', (_what, annotations, status, want) => {
    expect(supersededMarkers(vps({ annotations }), status)).toEqual(want);
  });
});

describe('clearSupersededMarkers', () => {
  it('removes each superseded marker, carrying the resourceVersion from one write to the next', async () => {
    const writer = recordingWriter();
    const resource = vps({
      annotations: {
        [CREATE_PENDING_ANNOTATION]: formatCreatePending({ at: NOW, name: 'web-01' }),
        [REBOOT_PENDING_ANNOTATION]: 't1',
      },
    });
    const versions: string[] = [];
    const watching = {
      patchMetadata: (meta: { resourceVersion: string }, change: object) => {
        versions.push(meta.resourceVersion);
        return writer.patchMetadata(meta as never, change);
      },
    };
    const after = await clearSupersededMarkers(watching, resource, {
      serverId: 7,
      lastRebootRequestedAt: 't1',
    });
    expect([versions, after.metadata.annotations, after.metadata.resourceVersion]).toEqual([
      ['1', '2'],
      {},
      '3',
    ]);
  });

  it('writes nothing when status supersedes no marker', async () => {
    const writer = recordingWriter();
    await clearSupersededMarkers(writer, vps({ annotations: { [REBOOT_PENDING_ANNOTATION]: 't1' } }), {});
    expect(writer.changes).toEqual([]);
  });
});
