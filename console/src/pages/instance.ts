/**
 * One instance's debug view: the stored item, its claim and current execution, its owner's
 * reservation, its last errors, its retained volumes, what the provider reports now, its
 * operations, and the escape hatches for it.
 */
import type { OwnerRegistryView } from '../../../lambdas/views/operator-views';
import { hatchBar, wireHatches } from '../hatches';
import { api, asJson, badge, html, link, problemText, routes, time, type Html } from '../lib';
import type { PageContext } from '../page';
import { auditTable } from './owner';
import { executionsTable } from './executions';

/** The admin view as the console reads it (parts may be `{ error }`; fields may be added later). */
interface AdminView {
  instance: Record<string, unknown> & { instanceId: string; owner: string; status: string; provider: string; claim?: string; operation?: string };
  currentExecution: ({ name: string; kind: string; status: string; error: string | null } | { error: string }) | null;
  reservation: (Record<string, unknown> & { status: string; version: number; instanceId: string; executionName: string }) | null;
  provider: Record<string, unknown> & { name: string };
  /** Volumes kept after a recovery or a provider switch (shown when the API gives them). */
  retainedVolumes?: Array<Record<string, unknown>>;
}

const ERROR_FIELDS = ['lastStartError', 'lastStopError', 'lastDestroyError', 'lastRecoveryError', 'lastCleanupError'] as const;

function part(value: unknown): Html {
  if (value && typeof value === 'object' && 'error' in value && Object.keys(value).length === 1) return html`<p class="error-text" role="note">Could not read: ${String((value as { error: unknown }).error)}</p>`;
  if (value === null || value === undefined) return html`<p class="muted">none</p>`;
  return html`<pre class="data">${asJson(value)}</pre>`;
}

function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

/** `#/instances/<id>`. */
export async function instancePage(ctx: PageContext, id: string): Promise<void> {
  ctx.setTitle(id);
  ctx.root.innerHTML = html`<h1 tabindex="-1">Instance ${id}</h1><div class="instance-body"><p role="status">Loading…</p></div>`.value;
  const body = ctx.root.querySelector<HTMLElement>('.instance-body')!;
  let view: AdminView;
  try {
    view = await api<AdminView>('GET', `/v1/admin/instances/${encodeURIComponent(id)}`);
  } catch (error) {
    body.innerHTML = html`<p role="alert" class="error-text">${problemText(error)}</p>`.value;
    return;
  }
  const item = view.instance;
  const current = view.currentExecution;
  const errors = ERROR_FIELDS.filter((field) => item[field]).map((field) => ({ field, record: item[field] as { message: string; code?: string; at: string } }));
  const volumes = Array.isArray(view.retainedVolumes) ? view.retainedVolumes : null;
  body.innerHTML = html`
    ${hatchBar(ctx.manifest.hatches, 'instance', { id, owner: item.owner })}
    <section aria-labelledby="s-summary"><h2 id="s-summary">Summary</h2>
      <dl class="facts">
        <dt>Status</dt><dd>${badge(item.status)}</dd>
        <dt>Owner</dt><dd>${link(routes.owner(item.owner), item.owner)}</dd>
        <dt>Name</dt><dd>${text(item.name)}</dd>
        <dt>Provider</dt><dd>${item.provider} ${text(item.region)} ${text(item.size)}</dd>
        <dt>Machine</dt><dd class="mono">${text(item.machineId) || '—'}</dd>
        <dt>Volume</dt><dd class="mono">${text(item.volumeId) || '—'}</dd>
        <dt>Endpoint</dt><dd class="mono">${text(item.endpoint) || '—'}</dd>
        <dt>Version</dt><dd>${text(item.version)}</dd>
        <dt>Claim</dt><dd>${item.claim ? html`<span class="mono">${item.claim}</span> (${text(item.operation)})` : html`<span class="muted">none: idle</span>`}</dd>
        <dt>Created</dt><dd>${time(text(item.createdAt))}</dd>
        <dt>Updated</dt><dd>${time(text(item.updatedAt))}</dd>
      </dl>
    </section>
    <section aria-labelledby="s-current"><h2 id="s-current">Current execution</h2>
      ${current === null ? html`<p class="muted">None: no operation holds the instance.</p>` : 'name' in current ? html`<p>${link(routes.execution(current.kind, current.name), current.name)} ${badge(current.status)} ${current.error ?? ''}</p>` : part(current)}
    </section>
    <section aria-labelledby="s-reservation"><h2 id="s-reservation">Reservation of ${item.owner}</h2>
      ${view.reservation ? html`<p>${badge(view.reservation.status)} version ${view.reservation.version}, for ${view.reservation.instanceId === id ? 'this instance' : link(routes.instance(view.reservation.instanceId), view.reservation.instanceId)} (${link(routes.execution('provision', view.reservation.executionName), view.reservation.executionName)})</p>` : html`<p class="muted">none</p>`}
    </section>
    <section aria-labelledby="s-errors"><h2 id="s-errors">Last errors</h2>
      ${errors.length === 0 ? html`<p class="muted">none</p>` : html`<table class="list"><thead><tr><th scope="col">Field</th><th scope="col">Code</th><th scope="col">Message</th><th scope="col">At</th></tr></thead><tbody>${errors.map((e) => html`<tr><td>${e.field}</td><td>${e.record.code ?? ''}</td><td class="error-text">${e.record.message}</td><td>${time(e.record.at)}</td></tr>`)}</tbody></table>`}
      ${item.cleanupExhaustedAt ? html`<p class="error-text">Cleanup exhausted its ${text(item.reconcileTries)} tries at ${time(text(item.cleanupExhaustedAt))}: left for an operator.</p>` : ''}
    </section>
    <section aria-labelledby="s-volumes"><h2 id="s-volumes">Retained volumes</h2>
      ${
        volumes === null
          ? part(view.retainedVolumes)
          : volumes.length === 0
            ? html`<p class="muted">none</p>`
            : html`<table class="list"><thead><tr><th scope="col">Volume</th><th scope="col">Provider</th><th scope="col">State</th><th scope="col">Why</th><th scope="col">Retained until</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead><tbody>${volumes.map((volume) => {
                const volumeId = text(volume.volumeId ?? volume.id);
                return html`<tr><td class="mono">${volumeId}</td><td>${text(volume.provider)}</td><td>${badge(text(volume.state) || 'retained')}</td><td>${text(volume.reason ?? volume.why)}</td><td>${time(text(volume.retainUntil))}</td><td>${hatchBar(ctx.manifest.hatches, 'volume', { volumeId, id, owner: item.owner })}</td></tr>`;
              })}</tbody></table>`
      }
    </section>
    <section aria-labelledby="s-provider"><h2 id="s-provider">Live provider view (${view.provider.name})</h2>
      <h3>Machine</h3>${part(view.provider.machine)}
      <h3>Volume</h3>${part(view.provider.volume)}
      <h3>Snapshots</h3>${part(view.provider.snapshots)}
      <h3>Everything tagged with this instance</h3>${part(view.provider.inventory)}
    </section>
    <section aria-labelledby="s-operations"><h2 id="s-operations">Operations</h2><div class="operations"></div></section>
    <section aria-labelledby="s-audit"><h2 id="s-audit">Operator actions on this instance</h2><div class="audit"><p role="status">Loading…</p></div></section>
    <details><summary>Stored item</summary><pre class="data">${asJson(item)}</pre></details>`.value;
  wireHatches(body, ctx.manifest.hatches, () => setTimeout(() => ctx.reload(), 800));
  await Promise.all([
    executionsTable(body.querySelector<HTMLElement>('.operations')!, { instanceId: id }, `Executions of ${id}`, 'instance-operations'),
    api<OwnerRegistryView>('GET', `/v1/admin/owners/${encodeURIComponent(item.owner)}?limit=1`)
      .then((registry) => {
        const mine = registry.audit.filter((record) => JSON.stringify(record.before).includes(id));
        body.querySelector<HTMLElement>('.audit')!.innerHTML = auditTable(mine).value;
      })
      .catch((error: unknown) => {
        body.querySelector<HTMLElement>('.audit')!.innerHTML = html`<p role="alert" class="error-text">${problemText(error)}</p>`.value;
      }),
  ]);
}
