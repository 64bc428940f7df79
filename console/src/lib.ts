/**
 * The console's small toolkit: HTML built from templates that escape every value, the API client
 * (the operator's token lives in sessionStorage only), and times shown in the viewer's zone with
 * UTC on hover.
 */

/** Markup that is already safe. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML content and attributes. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return esc(String(value));
}

/** A template whose every interpolated value is escaped, unless it is already `Html`. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** Markup the caller vouches for. */
export const raw = (markup: string): Html => new Html(markup);

// ── the token ────────────────────────────────────────────────────────────────────────────────
const TOKEN_KEY = 'slipway.console.token';

/** The operator's token, or null when signed out. */
export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}
export function setToken(value: string | null): void {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// ── the API ──────────────────────────────────────────────────────────────────────────────────
/** A problem the API answered (RFC 9457), or a network failure as status 0. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: { code?: string; title?: string; detail?: string; [key: string]: unknown },
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }
}

/** Call the API with the operator's token; a problem answer throws ApiError. */
export async function api<T>(method: string, path: string, body?: unknown, bearer = token()): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (error) {
    throw new ApiError(0, { code: 'network', detail: `The API did not answer (${error instanceof Error ? error.message : String(error)}).` });
  }
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as unknown) : null;
  if (!response.ok) throw new ApiError(response.status, (parsed as ApiError['problem']) ?? {});
  return parsed as T;
}

/** A path with `{name}` segments filled (each encoded). */
export function fillPath(template: string, params: Record<string, string>): string {
  return template.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(value);
  });
}

/** A query string from the set values. */
export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

// ── times ────────────────────────────────────────────────────────────────────────────────────
const LOCAL = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });

/** `2026-12-02 06:04:05 UTC`. */
export function utc(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** A time in the viewer's zone, with UTC on hover (and for screen readers, the machine-readable value). */
export function time(iso: string | null | undefined): Html {
  if (!iso) return html`<span class="muted">—</span>`;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return html`${iso}`;
  return html`<time datetime="${iso}" title="${utc(date.toISOString())}">${LOCAL.format(date)}</time>`;
}

/** How long between two times: `1.2 s`, `3 min 4 s`. */
export function duration(from: string | null | undefined, to: string | null | undefined): string {
  if (!from) return '';
  const ms = (to ? Date.parse(to) : Date.now()) - Date.parse(from);
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** JSON text pretty-printed, or the text as is when it is not JSON. */
export function pretty(text: string | null | undefined): string {
  if (text === null || text === undefined) return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** A value as pretty JSON. */
export const asJson = (value: unknown): string => JSON.stringify(value, null, 2);

/** A status badge: colour and the word (never colour alone). */
export function badge(status: string | null | undefined): Html {
  const value = status ?? 'unknown';
  return html`<span class="badge badge-${value.toLowerCase().replace(/[^a-z_-]/g, '')}">${value}</span>`;
}

/** A link inside the console. */
export function link(hash: string, text: string): Html {
  return html`<a href="#${hash}">${text}</a>`;
}

/** Hash routes of the console's pages. */
export const routes = {
  executions: (filters: Record<string, string> = {}) => `/executions${query(filters)}`,
  execution: (workflow: string, name: string) => `/executions/${encodeURIComponent(workflow)}/${encodeURIComponent(name)}`,
  instance: (id: string) => `/instances/${encodeURIComponent(id)}`,
  owner: (owner: string) => `/owners/${encodeURIComponent(owner)}`,
  attention: () => '/attention',
};

/** A problem as a sentence for an alert. */
export function problemText(error: unknown): string {
  if (error instanceof ApiError) {
    const code = error.problem.code ? ` (${error.problem.code}, HTTP ${error.status})` : error.status ? ` (HTTP ${error.status})` : '';
    return `${error.problem.detail ?? error.problem.title ?? 'The request failed'}${code}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Figures the browser tests read: how long each render of a listing took. */
export interface ConsoleMetrics {
  renders: Array<{ page: string; rows: number; ms: number }>;
}
export const metrics: ConsoleMetrics = { renders: [] };
(globalThis as unknown as { __slipwayConsole: ConsoleMetrics }).__slipwayConsole = metrics;

/** What a paged table needs: its caption and head, how to read a page and draw a row, and what its count says. */
export interface PagedTableOptions<T> {
  caption: string;
  head: Html;
  moreLabel: string;
  fetchPage: (cursor: string | null) => Promise<{ items: T[]; nextCursor: string | null }>;
  row: (item: T) => Html;
  /** The count line after a page: `rows` drawn so far, `more` when a cursor remains. */
  countText: (rows: number, more: boolean) => string;
  /** Called with the rows so far and the milliseconds drawing the last page took. */
  rendered?: (rows: number, ms: number) => void;
}

/** A table under `container` that loads its pages one at a time, on its "more" button. */
export async function pagedTable<T>(container: HTMLElement, options: PagedTableOptions<T>): Promise<void> {
  container.innerHTML = html`<table class="list"><caption class="visually-hidden">${options.caption}</caption>${options.head}<tbody></tbody></table>
    <p class="pager"><span class="count" role="status" aria-live="polite">Loading…</span> <button type="button" class="more" hidden>${options.moreLabel}</button></p>`.value;
  const tbody = container.querySelector('tbody')!;
  const more = container.querySelector<HTMLButtonElement>('.more')!;
  const count = container.querySelector<HTMLElement>('.count')!;
  let cursor: string | null = null;
  let rows = 0;
  const load = async () => {
    more.disabled = true;
    try {
      const page = await options.fetchPage(cursor);
      const started = performance.now();
      tbody.insertAdjacentHTML('beforeend', page.items.map((item) => options.row(item).value).join(''));
      rows += page.items.length;
      options.rendered?.(rows, performance.now() - started);
      cursor = page.nextCursor;
      more.hidden = !cursor;
      count.textContent = options.countText(rows, cursor !== null);
    } catch (error) {
      count.textContent = problemText(error);
      count.setAttribute('role', 'alert');
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener('click', () => void load());
  await load();
}
