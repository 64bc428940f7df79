/**
 * The operator console: a page served by the API itself, signed in with an admin token kept in
 * sessionStorage (taken once from a `#token=` link, then removed from the address bar), and a
 * hash router over its pages.
 */
import type { ConsoleManifest } from '../../lambdas/api/console/manifest';
import { api, ApiError, html, problemText, routes, setToken, token } from './lib';
import { attentionPage } from './pages/attention';
import { executionPage } from './pages/execution';
import { executionsPage } from './pages/executions';
import { instancePage } from './pages/instance';
import { ownerPage } from './pages/owner';
import type { PageContext } from './page';

const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;
let manifest: ConsoleManifest | null = null;
let generation = 0;

/** Take a token handed over in the fragment (`#token=…`), and drop it from the address bar at once. */
function adoptFragmentToken(): void {
  const match = /^#token=([A-Za-z0-9._~+/=-]+)/.exec(location.hash);
  if (!match) return;
  setToken(match[1]!);
  history.replaceState(null, '', `${location.pathname}#${routes.executions()}`);
}

function signInPage(message?: string): void {
  nav.hidden = true;
  document.title = 'Sign in · slipway console';
  main.innerHTML = html`<h1 tabindex="-1">Sign in to the slipway console</h1>
    <p>The console needs a token with the <code>admin</code> scope. It is kept in this tab's session storage only, and sent only in the Authorization header of the console's API calls.</p>
    ${message ? html`<p role="alert" class="error-text">${message}</p>` : ''}
    <form class="signin"><label>Admin token <input type="password" name="token" autocomplete="off" required size="40"></label> <button type="submit">Sign in</button></form>
    <p class="muted">Locally, <code>npm start</code> prints a link that signs you in; <code>npm run token -- --sub you --admin</code> mints a token.</p>`.value;
  main.querySelector<HTMLElement>('h1')!.focus();
  main.querySelector('form')!.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = (event.target as HTMLFormElement).elements.namedItem('token') as HTMLInputElement;
    const offered = input.value.trim();
    input.value = '';
    void signIn(offered);
  });
}

/** Check the token by loading the manifest; only an admin token is kept. */
async function signIn(offered: string): Promise<void> {
  try {
    manifest = await api<ConsoleManifest>('GET', '/v1/admin/console', undefined, offered);
    setToken(offered);
    if (!location.hash || location.hash === '#') location.hash = routes.executions();
    else void route();
  } catch (error) {
    setToken(null);
    signInPage(refusal(error));
  }
}

function refusal(error: unknown): string {
  if (error instanceof ApiError && error.status === 403) return 'This token lacks the admin scope: the console shows nothing to it.';
  if (error instanceof ApiError && error.status === 401) return 'This token is not valid (or has expired).';
  return problemText(error);
}

async function route(): Promise<void> {
  const mine = ++generation;
  const current = token();
  if (!current) return signInPage();
  if (!manifest) {
    try {
      manifest = await api<ConsoleManifest>('GET', '/v1/admin/console');
    } catch (error) {
      setToken(null);
      return signInPage(refusal(error));
    }
  }
  nav.hidden = false;
  const [path, search = ''] = location.hash.replace(/^#/, '').split('?');
  const segments = (path ?? '').split('/').filter(Boolean).map(decodeURIComponent);
  const ctx: PageContext = {
    root: main,
    manifest,
    search: new URLSearchParams(search),
    setTitle: (title) => {
      document.title = `${title} · slipway console`;
    },
    navigate: (hash) => {
      location.hash = hash;
    },
    reload: () => void route(),
    active: () => generation === mine,
  };
  for (const link of Array.from(nav.querySelectorAll<HTMLAnchorElement>('a[data-section]'))) {
    if (link.dataset.section === (segments[0] ?? 'executions')) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const page =
    segments[0] === 'executions' && segments.length === 3
      ? executionPage(ctx, segments[1]!, segments[2]!)
      : segments[0] === 'instances' && segments[1]
        ? instancePage(ctx, segments[1])
        : segments[0] === 'owners' && segments[1]
          ? ownerPage(ctx, segments[1])
          : segments[0] === 'attention'
            ? attentionPage(ctx)
            : executionsPage(ctx);
  // The page's heading takes the focus, so a keyboard or screen reader user starts at the top of it.
  main.querySelector<HTMLElement>('h1')?.focus();
  await page.catch((error: unknown) => {
    main.insertAdjacentHTML('beforeend', html`<p role="alert" class="error-text">${problemText(error)}</p>`.value);
  });
}

document.getElementById('signout')!.addEventListener('click', () => {
  setToken(null);
  manifest = null;
  signInPage('Signed out.');
});
document.getElementById('jump')!.addEventListener('submit', (event) => {
  event.preventDefault();
  const input = (event.target as HTMLFormElement).elements.namedItem('q') as HTMLInputElement;
  const value = input.value.trim();
  if (/^i-[0-9a-z]{26}$/.test(value)) location.hash = routes.instance(value);
  else if (/^(user|org):/.test(value)) location.hash = routes.owner(value);
  else if (/^i-[0-9a-z]{26}-/.test(value)) location.hash = routes.executions({ instanceId: value.slice(0, 28) });
  input.value = '';
});
// The skip link moves the focus without touching the hash (which routes).
document.querySelector('.skip')!.addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', () => void route());
adoptFragmentToken();
void route();
