// The provider's sample responses (test/fixtures/seed-examples.ts, copied from the docs) as the
// client's test data: fresh copies typed as wire shapes, a list item with overrides for tables.
import type {
  WireCreatedServer,
  WirePowerActionResponse,
  WireServerDetail,
  WireServerListItem,
} from '../../src/vpsorg/wire.ts';
import { CREATE_EXAMPLE, DETAIL_EXAMPLE, LIST_EXAMPLE, START_EXAMPLE } from '../fixtures/seed-examples.ts';

const [firstListed] = LIST_EXAMPLE.results;

export const listItem = (overrides: Partial<WireServerListItem> = {}): WireServerListItem => ({
  ...structuredClone(firstListed as WireServerListItem),
  ...overrides,
});

export const detail = (): WireServerDetail => structuredClone(DETAIL_EXAMPLE);
export const created = (): WireCreatedServer => structuredClone(CREATE_EXAMPLE);
export const started = (): WirePowerActionResponse =>
  structuredClone(START_EXAMPLE) as WirePowerActionResponse;
