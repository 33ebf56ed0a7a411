// --default-credentials-namespaces and --adoption-namespaces: their form, and the decision.
import { describe, expect, it } from 'vitest';
import {
  allows,
  describePolicy,
  parseNamespacePolicy,
  refusalMessage,
} from '../../src/vpsserver/namespace-policy.ts';

describe('parseNamespacePolicy', () => {
  const good: [string, string, ReturnType<typeof parseNamespacePolicy>][] = [
    ['every namespace', '*', { all: true }],
    ['a list', 'team-a, team-b', { all: false, names: ['team-a', 'team-b'] }],
    [
      'a selector',
      'selector:vps.org/tenant=trusted',
      { all: false, names: [], selector: 'vps.org/tenant=trusted' },
    ],
    [
      'a list and a set-based selector with commas',
      'demo,selector:env in (prod,dev),!legacy',
      { all: false, names: ['demo'], selector: 'env in (prod,dev),!legacy' },
    ],
  ];
  it.each(good)('accepts %s', (_, raw, want) => {
    expect(parseNamespacePolicy(raw)).toEqual(want);
  });

  const bad: [string, string, string][] = [
    ['an empty value', '', 'use * for every namespace'],
    ['an invalid namespace name', 'Team_A', '"Team_A" is not a namespace name'],
    ['an empty selector', 'demo,selector:', 'needs a label selector'],
    ['a broken selector', 'selector:env in prod', 'is not a label selector requirement'],
  ];
  it.each(bad)('refuses %s, saying what is wrong', (_, raw, message) => {
    expect(() => parseNamespacePolicy(raw)).toThrow(message);
  });
});

describe('allows', () => {
  const policy = parseNamespacePolicy('demo,selector:vps.org/tenant=trusted');
  it.each([
    ['a listed namespace', 'demo', false, true],
    ['a namespace whose labels match', 'team-b', true, true],
    ['any other namespace', 'evil', false, false],
  ])('%s', (_, ns, matches, want) => {
    expect(allows(policy, ns, matches)).toBe(want);
  });
  it('* allows every namespace', () => {
    expect(allows({ all: true }, 'evil', false)).toBe(true);
  });
});

describe('refusal messages name the flag to change', () => {
  const policy = parseNamespacePolicy('demo');
  it('for default credentials', () => {
    const m = refusalMessage('credentials', 'evil', policy);
    expect(m).toContain('--default-credentials-namespaces is "demo"');
    expect(m).toContain('spec.credentialsSecretRef');
  });
  it('for adoption', () => {
    expect(refusalMessage('adoption', 'evil', policy)).toContain('--adoption-namespaces');
  });
  it('describes a policy as it is written', () => {
    expect(describePolicy(parseNamespacePolicy('a,b,selector:x=y'))).toBe('a,b,selector:x=y');
  });
});
