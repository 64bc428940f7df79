/** An owner's registry: instances (tombstones too), reservation, quota, the audit trail, and the hatches for them. */
import type { OwnerRegistryView } from '../../../lambdas/views/operator-views';
import type { AuditRecord } from '../../../lambdas/domain/audit';
import { hatchBar, wireHatches } from '../hatches';
import { api, asJson, badge, html, link, problemText, query, routes, time, type Html } from '../lib';
import type { PageContext } from '../page';

/** Audit records, newest first. */
export function auditTable(records: readonly AuditRecord[]): Html {
  if (records.length === 0) return html`<p class="muted">No operator actions recorded.</p>`;
  return html`<table class="list audit-trail"><caption class="visually-hidden">Audit trail, newest first</caption><thead><tr><th scope="col">When</th><th scope="col">Action</th><th scope="col">Operator</th><th scope="col">Reason</th><th scope="col">Before</th></tr></thead><tbody>${records.map(
    (record) => html`<tr><td>${time(record.at)}</td><td>${record.action}</td><td>${record.actor}</td><td class="reason">${record.reason}</td><td><details><summary>state before</summary><pre class="data">${asJson(record.before)}</pre></details></td></tr>`,
  )}</tbody></table>`;
}

/** `#/owners/<owner>`. */
export async function ownerPage(ctx: PageContext, owner: string): Promise<void> {
  ctx.setTitle(owner);
  ctx.root.innerHTML = html`<h1 tabindex="-1">Owner ${owner}</h1><div class="owner-body"><p role="status">Loading…</p></div>`.value;
  const body = ctx.root.querySelector<HTMLElement>('.owner-body')!;
  let registry: OwnerRegistryView;
  try {
    registry = await api<OwnerRegistryView>('GET', `/v1/admin/owners/${encodeURIComponent(owner)}${query({ limit: 50 })}`);
  } catch (error) {
    body.innerHTML = html`<p role="alert" class="error-text">${problemText(error)}</p>`.value;
    return;
  }
  const reservation = registry.reservation;
  const instanceRows = (items: OwnerRegistryView['instances']['items']) =>
    items.map((i) => html`<tr><td>${link(routes.instance(i.id), i.id)}</td><td>${i.name}</td><td>${badge(i.status)}</td><td>${i.provider}</td><td>${time(i.createdAt)}</td></tr>`).join('');
  body.innerHTML = html`
    <section aria-labelledby="s-reservation"><h2 id="s-reservation">Reservation</h2>
      ${reservation ? html`<dl class="facts"><dt>Status</dt><dd>${badge(reservation.status)}</dd><dt>Version</dt><dd>${reservation.version}</dd><dt>Instance</dt><dd>${link(routes.instance(reservation.instanceId), reservation.instanceId)}</dd><dt>Execution</dt><dd>${link(routes.execution('provision', reservation.executionName), reservation.executionName)}</dd><dt>Deadline</dt><dd>${time(reservation.deadline)}</dd>${reservation.releasedBy ? html`<dt>Released by</dt><dd>${reservation.releasedBy}: ${reservation.releaseReason ?? ''}</dd>` : ''}</dl>` : html`<p class="muted">This owner has never provisioned.</p>`}
      ${hatchBar(ctx.manifest.hatches, 'owner', { owner })}
    </section>
    <section aria-labelledby="s-quota"><h2 id="s-quota">Quota</h2><pre class="data">${asJson(registry.quota)}</pre></section>
    <section aria-labelledby="s-instances"><h2 id="s-instances">Instances (tombstones too), newest first</h2>
      <table class="list"><thead><tr><th scope="col">Instance</th><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Provider</th><th scope="col">Created</th></tr></thead><tbody class="instances"></tbody></table>
      <p class="pager"><button type="button" class="more" hidden>More instances</button></p>
    </section>
    <section aria-labelledby="s-audit"><h2 id="s-audit">Audit trail</h2>${auditTable(registry.audit)}</section>`.value;
  const tbody = body.querySelector<HTMLElement>('.instances')!;
  tbody.innerHTML = instanceRows(registry.instances.items);
  const more = body.querySelector<HTMLButtonElement>('.more')!;
  let cursor = registry.instances.nextCursor;
  more.hidden = !cursor;
  more.addEventListener('click', () => {
    void api<OwnerRegistryView>('GET', `/v1/admin/owners/${encodeURIComponent(owner)}${query({ limit: 50, cursor })}`).then((page) => {
      tbody.insertAdjacentHTML('beforeend', instanceRows(page.instances.items));
      cursor = page.instances.nextCursor;
      more.hidden = !cursor;
    });
  });
  wireHatches(body, ctx.manifest.hatches, () => setTimeout(() => ctx.reload(), 800));
}
