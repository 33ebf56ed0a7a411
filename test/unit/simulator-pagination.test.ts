// DRF-style page-number pagination: absolute next/previous links that keep the filters.
import { describe, expect, it } from 'vitest';
import { paginate } from '../../src/simulator/pagination.ts';

const items = Array.from({ length: 25 }, (_, i) => i + 1);
const at = (query: string) => new URL(`http://127.0.0.1:8080/api/v1/servers/${query}`);

describe('paginate', () => {
  it('serves the first page with a link to the second', () => {
    expect(paginate(items, 10, at('?status=active'))).toEqual({
      count: 25,
      next: 'http://127.0.0.1:8080/api/v1/servers/?status=active&page=2',
      previous: null,
      results: items.slice(0, 10),
    });
  });

  it('links page 2 back to the first page without a page parameter', () => {
    const page = paginate(items, 10, at('?page=2&location=us-west'));
    expect(page?.previous).toBe('http://127.0.0.1:8080/api/v1/servers/?location=us-west');
    expect(page?.next).toBe('http://127.0.0.1:8080/api/v1/servers/?page=3&location=us-west');
  });

  it('serves a short last page without a next link', () => {
    expect(paginate(items, 10, at('?page=3'))).toMatchObject({ next: null, results: [21, 22, 23, 24, 25] });
    expect(paginate(items, 10, at('?page=last'))?.results).toEqual([21, 22, 23, 24, 25]);
  });

  it('serves an empty first page when there is nothing', () => {
    expect(paginate([], 10, at(''))).toEqual({ count: 0, next: null, previous: null, results: [] });
  });

  it.each(['?page=4', '?page=0', '?page=-1', '?page=two', '?page=1.5'])('has no page for %s', (query) => {
    expect(paginate(items, 10, at(query))).toBeNull();
  });
});
