// The provider's own sample responses (../shared/seeds/), verbatim, as the client's test data.
import type {
  WireCreatedServer,
  WirePowerActionResponse,
  WireServerDetail,
  WireServerListItem,
} from '../../src/vpsorg/wire.ts';

export const listItem = (overrides: Partial<WireServerListItem> = {}): WireServerListItem => ({
  id: 12345,
  name: 'web-server-01',
  hostname: 'web01.example.com',
  status: 'active',
  ip_address: '203.0.113.10',
  location: 'us-west',
  plan: { id: 1, name: 'Standard VPS', vcpus: 2, memory: 4096, storage: 80 },
  os: { id: 5, name: 'Ubuntu 22.04 LTS' },
  created_at: '2025-01-10T14:30:00Z',
  updated_at: '2025-01-15T10:20:00Z',
  ...overrides,
});

export const detail = (): WireServerDetail => ({
  id: 12345,
  name: 'web-server-01',
  hostname: 'web01.example.com',
  status: 'active',
  ip_address: '203.0.113.10',
  ipv6_address: '2001:0db8::1',
  location: 'us-west',
  plan: { id: 1, name: 'Standard VPS', vcpus: 2, memory: 4096, storage: 80, bandwidth: 2048 },
  os: { id: 5, name: 'Ubuntu 22.04 LTS' },
  backups_enabled: true,
  resource_usage: { cpu_percent: 23.5, memory_used: 2048, disk_used: 35, bandwidth_used: 450 },
  created_at: '2025-01-10T14:30:00Z',
  updated_at: '2025-01-16T15:45:00Z',
});

export const created = (): WireCreatedServer => ({
  id: 12347,
  name: 'web-server-02',
  hostname: 'web02.example.com',
  status: 'provisioning',
  ip_address: null,
  location: 'us-west',
  plan: { id: 1, name: 'Standard VPS', vcpus: 2, memory: 4096, storage: 80 },
  os: { id: 5, name: 'Ubuntu 22.04 LTS' },
  backups_enabled: true,
  created_at: '2025-01-16T15:30:00Z',
  updated_at: '2025-01-16T15:30:00Z',
  message: 'Server is being provisioned. This may take 2-5 minutes.',
});

export const started = (): WirePowerActionResponse => ({
  status: 'success',
  message: 'Server is starting',
  server: { id: 12345, name: 'web-server-01', status: 'starting' },
});
