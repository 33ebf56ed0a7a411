// Writes to a VpsServer's own metadata (finalizers, marker annotations), guarded by the
// resourceVersion the pass read, and the object as it is afterwards: the next write of the same
// pass must carry the new resourceVersion, or it would fail with 409 against our own change.
import type { CustomResourceWriter } from '../k8s/vpsservers.ts';
import type { VpsServer } from './types.ts';

/** The part of the writer metadata writes need (a small test double can stand in). */
export type MetadataWriter = Pick<CustomResourceWriter, 'patchMetadata'>;

export interface MetadataChange {
  finalizers?: string[];
  /** null removes the annotation. */
  annotations?: Record<string, string | null>;
}

export async function patchMetadata(
  writer: MetadataWriter,
  vps: VpsServer,
  change: MetadataChange,
): Promise<VpsServer> {
  const updated = await writer.patchMetadata(vps.metadata, change);
  const annotations = { ...vps.metadata.annotations };
  for (const [k, v] of Object.entries(change.annotations ?? {})) {
    if (v === null) delete annotations[k];
    else annotations[k] = v;
  }
  return {
    ...vps,
    metadata: {
      ...vps.metadata,
      resourceVersion: resourceVersionOf(updated) ?? vps.metadata.resourceVersion,
      finalizers: change.finalizers ?? vps.metadata.finalizers,
      annotations,
    },
  };
}

/** The resourceVersion of an object the API server answered with, if it has one. */
export function resourceVersionOf(answer: unknown): string | undefined {
  if (typeof answer !== 'object' || answer === null || !('metadata' in answer)) return undefined;
  const { metadata } = answer;
  if (typeof metadata !== 'object' || metadata === null || !('resourceVersion' in metadata)) return undefined;
  return typeof metadata.resourceVersion === 'string' ? metadata.resourceVersion : undefined;
}

/** The annotations of an object the API server answered with (none: an empty set). */
export function annotationsOf(answer: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof answer !== 'object' || answer === null || !('metadata' in answer)) return out;
  const { metadata } = answer;
  if (typeof metadata !== 'object' || metadata === null || !('annotations' in metadata)) return out;
  const { annotations } = metadata;
  if (typeof annotations !== 'object' || annotations === null) return out;
  for (const [k, v] of Object.entries(annotations)) if (typeof v === 'string') out[k] = v;
  return out;
}
