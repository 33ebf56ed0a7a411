// Pulls the provider's own words out of an error response, whatever its shape. VPS.org does not
// document its error body, so this copes with every shape seen from Django REST Framework and
// its proxies: {"detail": …}, {"message": …}, {"error": …}, field errors {"name": ["…"]}
// (nested too), a bare JSON string or list, an HTML error page, or plain text. The controller
// shows the result to a human in a Stalled condition, so it is one line of bounded length.

/** What an error body said, in a form fit for a condition message and for code. */
export interface ErrorBody {
  /** One line, at most MAX_PROVIDER_MESSAGE characters; undefined when the body said nothing. */
  providerMessage?: string;
  /** Validation messages per field path (`name`, `plan.id`, `items[1].name`), when the body has them. */
  fieldErrors?: Record<string, string[]>;
}

/** Longest providerMessage kept; a proxy's HTML page or a stack trace must not flood a status. */
export const MAX_PROVIDER_MESSAGE = 500;

/** Keys that carry the one-line summary of an error, most specific first. */
const HEADLINE_KEYS = ['detail', 'message', 'error', 'error_description', 'title'] as const;
/** Keys under which APIs nest their field errors next to a headline. */
const FIELD_ERROR_KEYS = ['errors', 'field_errors', 'fields'] as const;
/** DRF's (and Django forms') key for errors about the request as a whole, not one field. */
const NON_FIELD_KEYS: ReadonlySet<string> = new Set(['non_field_errors', '__all__']);

type JsonObject = Record<string, unknown>;
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads an error response's body text (possibly empty, not JSON, or cut short). */
export function readErrorBody(text: string): ErrorBody {
  const trimmed = text.trim();
  if (trimmed === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    return withMessage(fromRawText(trimmed));
  }
  return fromJson(json);
}

function fromJson(value: unknown): ErrorBody {
  if (!isObject(value)) return withMessage(describe(value));
  const headline = firstHeadline(value);
  const nested = FIELD_ERROR_KEYS.map((k) => value[k]).find((v) => v !== undefined && v !== null);
  // Without a headline, the object itself is DRF's field → [messages] map.
  const fieldSource = nested ?? (headline === undefined ? value : undefined);
  if (Array.isArray(fieldSource)) {
    return withMessage(join([headline, describe(fieldSource)], ': '));
  }
  const fieldErrors: Record<string, string[]> = {};
  if (isObject(fieldSource)) collectFieldErrors(fieldSource, '', fieldErrors);
  const hasFields = Object.keys(fieldErrors).length > 0;
  const body = withMessage(join([headline, hasFields ? renderFieldErrors(fieldErrors) : undefined], ': '));
  return hasFields ? { ...body, fieldErrors } : body;
}

function firstHeadline(obj: JsonObject): string | undefined {
  for (const key of HEADLINE_KEYS) {
    const text = describe(obj[key]);
    if (text !== undefined) return text;
  }
  return undefined;
}

/** Any JSON value as one line of text, or undefined when it holds nothing to say. */
function describe(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return join(value.map(describe), '; ');
  if (isObject(value)) return fromJson(value).providerMessage;
  return undefined;
}

function collectFieldErrors(obj: JsonObject, prefix: string, out: Record<string, string[]>): void {
  for (const [key, value] of Object.entries(obj)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const items = Array.isArray(value) ? value : [value];
    items.forEach((item, i) => {
      if (isObject(item)) {
        collectFieldErrors(item, Array.isArray(value) ? `${path}[${i}]` : path, out);
        return;
      }
      const text = describe(item);
      if (text !== undefined) out[path] = [...(out[path] ?? []), text];
    });
  }
}

function renderFieldErrors(fieldErrors: Record<string, string[]>): string {
  return Object.entries(fieldErrors)
    .flatMap(([path, messages]) => {
      const last = path.split('.').at(-1) ?? path;
      return messages.map((m) => (NON_FIELD_KEYS.has(last) ? m : `${path}: ${m}`));
    })
    .join('; ');
}

/** Plain text or an HTML error page (a proxy's 502) reduced to its words. */
function fromRawText(whole: string): string {
  // Only the start can end up in the message; do not run regexes over megabytes.
  const text = whole.slice(0, 64 * 1024);
  if (!/^<(!doctype|html|\?xml|head|body)/i.test(text)) return text;
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1];
  const words = text
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ');
  return title !== undefined && title.trim() !== '' ? title : words;
}

function join(parts: (string | undefined)[], separator: string): string | undefined {
  const present = parts.filter((p): p is string => p !== undefined && p !== '');
  return present.length === 0 ? undefined : present.join(separator);
}

function withMessage(text: string | undefined): ErrorBody {
  if (text === undefined) return {};
  const line = text.replace(/\s+/g, ' ').trim();
  if (line === '') return {};
  return { providerMessage: truncate(line, MAX_PROVIDER_MESSAGE) };
}

/** Cuts `text` to `max` characters, marking the cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
