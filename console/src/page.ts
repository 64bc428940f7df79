/** What every console page is given. */
import type { ConsoleManifest } from '../../lambdas/api/console/manifest';

/** What a page gets. */
export interface PageContext {
  root: HTMLElement;
  manifest: ConsoleManifest;
  search: URLSearchParams;
  setTitle(title: string): void;
  navigate(hash: string): void;
  reload(): void;
  /** False once the operator left the page (its polling stops). */
  active(): boolean;
}

