// Turns store records into the exact JSON shapes of the provider's samples (src/vpsorg/wire.ts):
// list item, detail, the 201 answer to a create and the power-action envelope. Field order
// follows the samples so a human comparing a response with the docs sees the same thing.

import {
  CREATE_MESSAGE,
  type PowerAction,
  powerActionMessage,
  type WireCreatedServer,
  type WirePlanSummary,
  type WirePowerActionResponse,
  type WireResourceUsage,
  type WireServerDetail,
  type WireServerListItem,
} from '../vpsorg/wire.ts';
import { isoTimestamp } from './sim-time.ts';
import type { ServerRecord } from './store.ts';

function planSummary(server: ServerRecord): WirePlanSummary {
  const { id, name, vcpus, memory, storage } = server.plan;
  return { id, name, vcpus, memory, storage };
}

export function renderListItem(server: ServerRecord): WireServerListItem {
  return {
    id: server.id,
    name: server.name,
    hostname: server.hostname,
    status: server.status,
    ip_address: server.addresses?.ipv4 ?? null,
    location: server.location,
    plan: planSummary(server),
    os: { ...server.os },
    created_at: isoTimestamp(server.createdAt),
    updated_at: isoTimestamp(server.updatedAt),
  };
}

export function renderDetail(server: ServerRecord, now: number): WireServerDetail {
  const { id, name, vcpus, memory, storage, bandwidth } = server.plan;
  return {
    id: server.id,
    name: server.name,
    hostname: server.hostname,
    status: server.status,
    ip_address: server.addresses?.ipv4 ?? null,
    ipv6_address: server.addresses?.ipv6 ?? null,
    location: server.location,
    plan: { id, name, vcpus, memory, storage, bandwidth },
    os: { ...server.os },
    backups_enabled: server.backupsEnabled,
    resource_usage: resourceUsage(server, now),
    created_at: isoTimestamp(server.createdAt),
    updated_at: isoTimestamp(server.updatedAt),
  };
}

export function renderCreated(server: ServerRecord): WireCreatedServer {
  const { created_at, updated_at, ...rest } = renderListItem(server);
  return { ...rest, backups_enabled: server.backupsEnabled, created_at, updated_at, message: CREATE_MESSAGE };
}

export function renderPowerAction(server: ServerRecord, action: PowerAction): WirePowerActionResponse {
  return {
    status: 'success',
    message: powerActionMessage(action),
    server: { id: server.id, name: server.name, status: server.status },
  };
}

const USAGE_PERIOD_MS = 60_000;

/**
 * Plausible usage that drifts minute by minute like a real machine's, derived from the server id
 * and the minute so it repeats for a given clock. A server that is not running uses nothing
 * but its disk. Usage is monitoring data, not a change: it never moves updated_at.
 */
export function resourceUsage(server: ServerRecord, now: number): WireResourceUsage {
  const minute = Math.floor((now - server.createdAt) / USAGE_PERIOD_MS);
  const wobble = (salt: number): number => {
    const x = Math.sin(server.id * 12.9898 + minute * 78.233 + salt) * 43758.5453;
    return x - Math.floor(x);
  };
  const disk = Math.round(server.plan.storage * (0.2 + 0.3 * wobble(3)));
  if (server.status !== 'active' && server.status !== 'rebooting') {
    return {
      cpu_percent: 0,
      memory_used: 0,
      disk_used: server.addresses === null ? 0 : disk,
      bandwidth_used: 0,
    };
  }
  const hours = Math.max(0, now - server.createdAt) / 3_600_000;
  return {
    cpu_percent: Math.round((1 + 60 * wobble(1)) * 10) / 10,
    memory_used: Math.round(server.plan.memory * (0.2 + 0.5 * wobble(2))),
    disk_used: disk,
    bandwidth_used: Math.min(server.plan.bandwidth, Math.round(hours * 0.5)),
  };
}
