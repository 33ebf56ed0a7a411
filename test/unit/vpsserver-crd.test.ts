// The CRD (what the API server enforces) and the TypeScript types (what the operator reads)
// must describe the same resource: field names, enums and defaults.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { decodeVpsServer } from '../../src/vpsserver/decode.ts';
import {
  DELETION_POLICIES,
  GROUP,
  KIND,
  MANAGEMENT_POLICIES,
  PLURAL,
  POWER_STATES,
  SPEC_FIELDS,
  STATUS_FIELDS,
  VERSION,
} from '../../src/vpsserver/types.ts';

interface Schema {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  enum?: string[];
  default?: unknown;
}

const crd = parse(readFileSync(new URL('../../crds/vpsservers.vps.org.yaml', import.meta.url), 'utf8'));
const version = crd.spec.versions[0];
const root: Schema = version.schema.openAPIV3Schema;
const spec = root.properties?.spec as Schema;
const status = root.properties?.status as Schema;

describe('the VpsServer CRD', () => {
  it('names the group, version, kind and plural the operator uses', () => {
    expect([crd.spec.group, version.name, crd.spec.names.kind, crd.spec.names.plural]).toEqual([
      GROUP,
      VERSION,
      KIND,
      PLURAL,
    ]);
  });

  it('has exactly the spec fields of VpsServerSpec', () => {
    expect(Object.keys(spec.properties ?? {}).sort()).toEqual([...SPEC_FIELDS].sort());
  });

  it('has exactly the status fields of VpsServerStatus', () => {
    expect(Object.keys(status.properties ?? {}).sort()).toEqual([...STATUS_FIELDS].sort());
  });

  it('uses the same enums as the operator', () => {
    expect(spec.properties?.powerState?.enum).toEqual([...POWER_STATES]);
    expect(spec.properties?.deletionPolicy?.enum).toEqual([...DELETION_POLICIES]);
    expect(spec.properties?.managementPolicy?.enum).toEqual([...MANAGEMENT_POLICIES]);
  });

  it('defaults every field the way the decoder does', () => {
    const decoded = decodeVpsServer({ metadata: { name: 'a', namespace: 'b', uid: 'c' }, spec: {} }).spec;
    const defaults = Object.fromEntries(
      Object.entries(spec.properties ?? {})
        .filter(([, s]) => s.default !== undefined)
        .map(([k, s]) => [k, s.default]),
    );
    expect(defaults).toEqual({
      backupsEnabled: false,
      powerState: 'Running',
      deletionPolicy: 'Delete',
      managementPolicy: 'Full',
    });
    for (const [field, value] of Object.entries(defaults))
      expect(decoded[field as keyof typeof decoded]).toEqual(value);
  });

  it('describes every spec and status field so kubectl explain teaches', () => {
    const undocumented: string[] = [];
    const walk = (s: Schema, path: string) => {
      if (s.description === undefined || s.description.trim() === '') undocumented.push(path);
      for (const [k, child] of Object.entries(s.properties ?? {})) walk(child, `${path}.${k}`);
      if (s.items !== undefined)
        for (const [k, child] of Object.entries(s.items.properties ?? {})) walk(child, `${path}[].${k}`);
    };
    walk(spec, 'spec');
    walk(status, 'status');
    expect(undocumented).toEqual([]);
  });
});
