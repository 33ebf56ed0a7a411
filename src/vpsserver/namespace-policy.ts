// Which namespaces may do what (issue 15): use the operator's default credentials, or adopt an
// existing server by spec.serverId. A policy is "*" (every namespace, the default) or a list of
// namespace names and/or one namespace label selector. Parsing and the decision are pure;
// which namespaces match the selector comes from a watch of namespaces filtered by the API
// server itself (src/k8s/namespace-set.ts), so the selector is matched exactly as kubectl does
// and a label added at run time counts within a watch event.
import { adoptionNotAllowedMessage, credentialsNotAllowedMessage } from './messages.ts';

export type NamespacePolicy =
  | { all: true }
  | {
      all: false;
      names: string[];
      /** A Kubernetes label selector on namespaces, e.g. `vps.org/tenant in (a,b)`. */
      selector?: string;
    };

const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const KEY = String.raw`([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]{0,61}[a-z0-9A-Z])?`;
const VALUE = String.raw`([a-z0-9A-Z]([-a-z0-9A-Z_.]{0,61}[a-z0-9A-Z])?)?`;
const REQUIREMENT = new RegExp(
  String.raw`^(!?${KEY}|${KEY}\s*(=|==|!=)\s*${VALUE}|${KEY}\s+(in|notin)\s+\(\s*${VALUE}(\s*,\s*${VALUE})*\s*\))$`,
);
const SELECTOR_PREFIX = 'selector:';

export const FORM = 'ns[,ns…][,selector:<label selector>] or *';

/**
 * Parses `*`, `team-a,team-b`, `selector:vps.org/tenant=trusted` or both
 * (`team-a,selector:env in (prod,dev)`: the selector comes last, as it may hold commas).
 */
export function parseNamespacePolicy(raw: string): NamespacePolicy {
  const value = raw.trim();
  if (value === '*') return { all: true };
  if (value === '')
    throw new Error(`${FORM}; use * for every namespace, or name at least one namespace or a selector`);
  const at = value.indexOf(SELECTOR_PREFIX);
  const listPart = at === -1 ? value : value.slice(0, at);
  const selector = at === -1 ? undefined : value.slice(at + SELECTOR_PREFIX.length).trim();
  const names = listPart
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const n of names) {
    if (!NAME.test(n)) throw new Error(`${FORM}; "${n}" is not a namespace name`);
  }
  if (selector !== undefined) {
    if (selector === '') throw new Error(`${FORM}; "selector:" needs a label selector after it`);
    for (const r of splitRequirements(selector)) {
      if (!REQUIREMENT.test(r.trim()))
        throw new Error(
          `${FORM}; "${r.trim()}" is not a label selector requirement (key=value, key in (a,b), key, !key)`,
        );
    }
  }
  return { all: false, names, ...(selector !== undefined && { selector }) };
}

/** Splits a selector at the commas outside parentheses. */
function splitRequirements(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  out.push(selector.slice(start));
  return out;
}

/** Whether `namespace` may; `matchesSelector` says whether its labels match the policy's selector. */
export function allows(policy: NamespacePolicy, namespace: string, matchesSelector: boolean): boolean {
  if (policy.all) return true;
  return policy.names.includes(namespace) || (policy.selector !== undefined && matchesSelector);
}

/** The policy as an admin would write it, for messages and the start-up log. */
export function describePolicy(policy: NamespacePolicy): string {
  if (policy.all) return '*';
  return [
    ...policy.names,
    ...(policy.selector === undefined ? [] : [`${SELECTOR_PREFIX}${policy.selector}`]),
  ].join(',');
}

/** The Stalled message of a refused resource: the fix (the flag to change) first, then what was refused. */
export function refusalMessage(
  what: 'credentials' | 'adoption',
  namespace: string,
  policy: NamespacePolicy,
): string {
  const current = describePolicy(policy);
  return what === 'credentials'
    ? credentialsNotAllowedMessage(namespace, current)
    : adoptionNotAllowedMessage(namespace, current);
}
