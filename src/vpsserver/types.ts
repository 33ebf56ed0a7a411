// The VpsServer resource as TypeScript sees it, with the names of the API group, finalizer and
// annotations. Mirrors crds/vpsservers.vps.org.yaml (the source of truth the API server
// enforces); test/unit/vpsserver-crd.test.ts fails when the two drift apart.

export const GROUP = 'vps.org';
export const VERSION = 'v1alpha1';
export const KIND = 'VpsServer';
export const PLURAL = 'vpsservers';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Keeps the resource until its server is deleted (or orphaned). */
export const FINALIZER = 'vps.org/finalizer';
/** "true" stops every write to VPS.org for this resource. */
export const PAUSED_ANNOTATION = 'vps.org/paused';
/** Written before POST /servers/: `{"at": ISO time, "name": server name}` (see plan.ts). */
export const CREATE_PENDING_ANNOTATION = 'vps.org/create-pending';
/** Written before POST /reboot/: the rebootRequestedAt value being acted on. */
export const REBOOT_PENDING_ANNOTATION = 'vps.org/reboot-pending';

export const POWER_STATES = ['Running', 'Stopped'] as const;
export type PowerState = (typeof POWER_STATES)[number];
export const DELETION_POLICIES = ['Delete', 'Orphan'] as const;
export type DeletionPolicy = (typeof DELETION_POLICIES)[number];
export const MANAGEMENT_POLICIES = ['Full', 'ObserveOnly'] as const;
export type ManagementPolicy = (typeof MANAGEMENT_POLICIES)[number];

export interface SecretKeyRef {
  name: string;
  key: string;
}

/** spec, with the CRD's defaults applied by the decoder. */
export interface VpsServerSpec {
  name?: string;
  hostname?: string;
  planId?: number;
  osId?: number;
  location?: string;
  sshKeyId?: number;
  backupsEnabled: boolean;
  powerState: PowerState;
  rebootRequestedAt?: string;
  deletionPolicy: DeletionPolicy;
  managementPolicy: ManagementPolicy;
  serverId?: number;
  credentialsSecretRef?: SecretKeyRef;
}

/** metav1.Condition. */
export interface Condition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}
export const CONDITION_TYPES = ['Ready', 'Reconciling', 'Stalled', 'Synced'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export interface PlanStatus {
  id: number;
  name: string;
  vcpus: number;
  memory: number;
  storage: number;
  bandwidth?: number;
}

export interface ResourceUsageStatus {
  cpuPercent: number;
  memoryUsed: number;
  diskUsed: number;
  bandwidthUsed: number;
}

export interface VpsServerStatus {
  serverId?: number;
  state?: string;
  ipAddress?: string;
  ipv6Address?: string;
  location?: string;
  hostname?: string;
  plan?: PlanStatus;
  os?: { id: number; name: string };
  resourceUsage?: ResourceUsageStatus;
  lastRebootRequestedAt?: string;
  /** The last managed server that vanished at VPS.org (deleted outside Kubernetes). */
  vanishedServerId?: number;
  /** Servers with this resource's name and shape that nothing owns: likely duplicate creates (leaks.ts). */
  leakedServerIds?: number[];
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface VpsServerMetadata {
  name: string;
  namespace: string;
  uid: string;
  generation: number;
  resourceVersion: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers: string[];
  annotations: Record<string, string>;
  labels: Record<string, string>;
}

/** A decoded VpsServer. */
export interface VpsServer {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: VpsServerMetadata;
  spec: VpsServerSpec;
  status: VpsServerStatus;
}

/** The server name to use at VPS.org: spec.name, else metadata.name (the CRD ensures it is valid). */
export const desiredServerName = (vps: VpsServer): string => vps.spec.name ?? vps.metadata.name;

/** `namespace/name`, the work-queue key. */
export const keyOf = (vps: { metadata: { namespace?: string; name?: string } }): string =>
  `${vps.metadata.namespace ?? ''}/${vps.metadata.name ?? ''}`;

/** Every spec field, checked against the CRD by a test and against VpsServerSpec by the compiler. */
export const SPEC_FIELDS = [
  'name',
  'hostname',
  'planId',
  'osId',
  'location',
  'sshKeyId',
  'backupsEnabled',
  'powerState',
  'rebootRequestedAt',
  'deletionPolicy',
  'managementPolicy',
  'serverId',
  'credentialsSecretRef',
] as const satisfies readonly (keyof VpsServerSpec)[];

/** The status fields that describe the provider's server (cleared when it is forgotten). */
export const SERVER_STATUS_FIELDS = [
  'serverId',
  'state',
  'ipAddress',
  'ipv6Address',
  'location',
  'hostname',
  'plan',
  'os',
  'resourceUsage',
] as const satisfies readonly (keyof VpsServerStatus)[];

/** Every status field, checked like SPEC_FIELDS. */
export const STATUS_FIELDS = [
  ...SERVER_STATUS_FIELDS,
  'lastRebootRequestedAt',
  'vanishedServerId',
  'leakedServerIds',
  'observedGeneration',
  'conditions',
] as const satisfies readonly (keyof VpsServerStatus)[];

// Compile-time: a field added to the interfaces but not to the lists above fails the type-check.
type Exhaustive<T extends never> = T;
export type SpecFieldsAreExhaustive = Exhaustive<Exclude<keyof VpsServerSpec, (typeof SPEC_FIELDS)[number]>>;
export type StatusFieldsAreExhaustive = Exhaustive<
  Exclude<keyof VpsServerStatus, (typeof STATUS_FIELDS)[number]>
>;
