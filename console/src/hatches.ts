/**
 * Escape hatches: each is a button that opens a small form asking why; the reason is required and
 * travels in the body of the audited admin call the hatch names (in its query string for a DELETE). The API decides whether the
 * action is allowed; its refusal is shown as it comes.
 */
import type { HatchPage, HatchView } from '../../lambdas/api/console/manifest';
import { api, asJson, esc, fillPath, html, Html, problemText } from './lib';

/** The hatches of one page, as a toolbar; `params` are what the page knows (id, owner, …). */
export function hatchBar(hatches: readonly HatchView[], page: HatchPage, params: Record<string, string>, scope = ''): Html {
  const mine = hatches.filter((hatch) => hatch.page === page);
  if (mine.length === 0) return html``;
  return html`<div class="hatches" role="group" aria-label="Escape hatches">
    ${mine.map(
      (hatch) => html`<div class="hatch" data-hatch="${hatch.id}" data-params="${JSON.stringify({ ...params, ...hatch.fixedParams })}" data-scope="${scope}">
        <button type="button" class="hatch-open" aria-expanded="false">${hatch.label}…</button>
        <form class="hatch-form" hidden>
          <p>${hatch.description}</p>
          <p class="mono">${hatch.method.toUpperCase()} ${hatch.path}</p>
          <label>Reason (required, kept in the audit trail)
            <textarea name="reason" required minlength="3" maxlength="500" rows="2"></textarea>
          </label>
          <div class="row"><button type="submit" class="danger">${hatch.label}</button> <button type="button" class="hatch-cancel">Cancel</button></div>
          <div class="hatch-result" role="status" aria-live="polite"></div>
        </form>
      </div>`,
    )}
  </div>`;
}

/** Wire every hatch under `root`; `done` runs after an accepted call (to reload the page). */
export function wireHatches(root: HTMLElement, hatches: readonly HatchView[], done: (hatch: HatchView, result: unknown) => void): void {
  for (const element of Array.from(root.querySelectorAll<HTMLElement>('.hatch'))) {
    const hatch = hatches.find((h) => h.id === element.dataset.hatch);
    if (!hatch) continue;
    const open = element.querySelector<HTMLButtonElement>('.hatch-open')!;
    const form = element.querySelector<HTMLFormElement>('.hatch-form')!;
    const reason = form.querySelector<HTMLTextAreaElement>('textarea')!;
    const result = form.querySelector<HTMLElement>('.hatch-result')!;
    open.addEventListener('click', () => {
      form.hidden = !form.hidden;
      open.setAttribute('aria-expanded', String(!form.hidden));
      if (!form.hidden) reason.focus();
    });
    form.querySelector<HTMLButtonElement>('.hatch-cancel')!.addEventListener('click', () => {
      form.hidden = true;
      open.setAttribute('aria-expanded', 'false');
      open.focus();
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const why = reason.value.trim();
      if (why.length < 3) {
        result.className = 'hatch-result error';
        result.textContent = 'A reason of at least 3 characters is required.';
        reason.focus();
        return;
      }
      const params = JSON.parse(element.dataset.params ?? '{}') as Record<string, string>;
      const submit = form.querySelector<HTMLButtonElement>('button[type=submit]')!;
      submit.disabled = true;
      result.className = 'hatch-result';
      result.textContent = 'Working…';
      const path = fillPath(hatch.path, params);
      const call =
        hatch.reasonIn === 'query'
          ? api<unknown>(hatch.method.toUpperCase(), `${path}?reason=${encodeURIComponent(why)}`)
          : api<unknown>(hatch.method.toUpperCase(), path, { reason: why });
      call
        .then((answer) => {
          result.className = 'hatch-result ok';
          result.innerHTML = html`Done. <details><summary>Answer</summary><pre>${asJson(answer)}</pre></details>`.value;
          done(hatch, answer);
        })
        .catch((error: unknown) => {
          result.className = 'hatch-result error';
          result.setAttribute('role', 'alert');
          result.textContent = problemText(error);
        })
        .finally(() => {
          submit.disabled = false;
        });
    });
  }
}

export { esc };
