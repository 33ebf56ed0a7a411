// Page-number pagination as Django REST Framework does it, since the docs' list answer
// ({count, results}) is DRF's shape: `?page=N`, absolute `next`/`previous` URLs that keep the
// other query parameters, page 1 without a `page` parameter, and 404 "Invalid page." past the end.

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export const INVALID_PAGE = 'Invalid page.';

/**
 * The page of `items` that `requestUrl` (absolute, with its query) asks for, or null for a page
 * that does not exist (not a positive integer, or past the last page).
 */
export function paginate<T>(items: readonly T[], pageSize: number, requestUrl: URL): Page<T> | null {
  const pageCount = Math.max(1, Math.ceil(items.length / pageSize));
  const requested = requestUrl.searchParams.get('page');
  const page =
    requested === null || requested === '' ? 1 : requested === 'last' ? pageCount : Number(requested);
  if (!Number.isSafeInteger(page) || page < 1 || page > pageCount) return null;
  return {
    count: items.length,
    next: page < pageCount ? pageUrl(requestUrl, page + 1) : null,
    previous: page > 1 ? pageUrl(requestUrl, page - 1) : null,
    results: items.slice((page - 1) * pageSize, page * pageSize),
  };
}

function pageUrl(requestUrl: URL, page: number): string {
  const url = new URL(requestUrl);
  if (page === 1) url.searchParams.delete('page');
  else url.searchParams.set('page', String(page));
  return url.toString();
}
