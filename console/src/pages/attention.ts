/**
 * What needs attention: what the sweeps see as due now and what is parked for an operator (the
 * alarms' subjects), from the attention index; and the hatch that runs a sweep now.
 */
import type { AttentionItem, AttentionPage } from '../../../lambdas/views/attention-view';
import { hatchBar, wireHatches } from '../hatches';
import { api, html, link, pagedTable, query, routes, time, type Html } from '../lib';
import type { PageContext } from '../page';

function overdue(seconds: number): string {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function row(item: AttentionItem): Html {
  return html`<tr data-subject="${item.subject}">
    <td><span class="subject subject-${item.subject}">${item.label}</span>${item.alarm ? html`<br><span class="muted">alarm ${item.alarm}</span>` : ''}</td>
    <td>${item.instanceId ? link(routes.instance(item.instanceId), item.instanceId) : ''}</td>
    <td>${item.owner ? link(routes.owner(item.owner), item.owner) : ''}</td>
    <td>${item.kind} ${item.status ?? ''}${item.tries !== null ? `, ${item.tries} tries` : ''}</td>
    <td>${time(item.since)} <span class="muted">(${overdue(item.overdueSeconds)})</span></td>
    <td>${item.detail ?? (item.claim ? html`<span class="mono">${item.claim}</span>` : '')}</td>
  </tr>`;
}

function band(container: HTMLElement, which: 'due' | 'parked', caption: string): Promise<void> {
  return pagedTable(container, {
    caption,
    head: html`<thead><tr><th scope="col">Subject</th><th scope="col">Instance</th><th scope="col">Owner</th><th scope="col">What</th><th scope="col">Since</th><th scope="col">Detail</th></tr></thead>`,
    moreLabel: 'More',
    fetchPage: (cursor) => api<AttentionPage>('GET', `/v1/admin/attention${query({ band: which, limit: 50, cursor })}`),
    row,
    countText: (rows, more) => (rows === 0 ? 'Nothing.' : `${rows} item${rows === 1 ? '' : 's'}${more ? ', more remain' : ''}.`),
  });
}

/** `#/attention`. */
export async function attentionPage(ctx: PageContext): Promise<void> {
  ctx.setTitle('Attention');
  ctx.root.innerHTML = html`<h1 tabindex="-1">Attention</h1>
    ${hatchBar(ctx.manifest.hatches, 'attention', {})}
    <section aria-labelledby="s-parked"><h2 id="s-parked">Left for an operator</h2><p class="muted">No sweep will touch these again; settle or release them.</p><div class="parked"></div></section>
    <section aria-labelledby="s-due"><h2 id="s-due">Due for the sweeps now</h2><div class="due"></div></section>`.value;
  wireHatches(ctx.root, ctx.manifest.hatches, () => setTimeout(() => ctx.reload(), 800));
  await Promise.all([band(ctx.root.querySelector<HTMLElement>('.parked')!, 'parked', 'Parked for an operator, oldest first'), band(ctx.root.querySelector<HTMLElement>('.due')!, 'due', 'Due now, oldest first')]);
}
