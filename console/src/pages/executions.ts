/** Every workflow's recent executions, newest first, filtered by workflow, status and instance; paged. */
import type { ExecutionRow, ExecutionsPage } from '../../../lambdas/views/executions';
import { api, badge, duration, html, link, metrics, pagedTable, query, routes, time, type Html } from '../lib';
import type { PageContext } from '../page';

const PAGE_SIZE = 100;

/** One row of the table. */
export function executionRow(row: ExecutionRow): Html {
  return html`<tr>
    <td>${link(routes.execution(row.workflow, row.name), row.name)}</td>
    <td>${row.workflow}</td>
    <td>${row.instanceId ? link(routes.instance(row.instanceId), row.instanceId) : ''}</td>
    <td>${badge(row.status)}</td>
    <td>${time(row.startedAt)}</td>
    <td class="num">${duration(row.startedAt, row.stoppedAt)}</td>
    <td>${row.consoleUrl ? html`<a href="${row.consoleUrl}" target="_blank" rel="noopener noreferrer">AWS console<span class="visually-hidden"> (opens a new tab)</span></a>` : ''}</td>
  </tr>`;
}

/** The table head shared by every executions table. */
export const EXECUTIONS_HEAD = html`<thead><tr><th scope="col">Execution</th><th scope="col">Workflow</th><th scope="col">Instance</th><th scope="col">Status</th><th scope="col">Started</th><th scope="col">Duration</th><th scope="col"><span class="visually-hidden">Links</span></th></tr></thead>`;

/** A paged executions table under `container`, loading more on demand. */
export function executionsTable(container: HTMLElement, filters: Record<string, string>, label: string, pageName = 'executions'): Promise<void> {
  return pagedTable(container, {
    caption: label,
    head: EXECUTIONS_HEAD,
    moreLabel: 'Load older executions',
    fetchPage: (cursor) => api<ExecutionsPage>('GET', `/v1/admin/executions${query({ ...filters, limit: PAGE_SIZE, cursor })}`),
    row: executionRow,
    countText: (rows, more) => (rows === 0 ? 'No executions match.' : `Showing ${rows} execution${rows === 1 ? '' : 's'}${more ? '; older ones remain' : ''}.`),
    rendered: (rows, ms) => metrics.renders.push({ page: pageName, rows, ms }),
  });
}

/** `#/executions?workflow=&status=&instanceId=`. */
export async function executionsPage(ctx: PageContext): Promise<void> {
  const { manifest, search } = ctx;
  const workflow = search.get('workflow') ?? '';
  const status = search.get('status') ?? '';
  const instanceId = search.get('instanceId') ?? '';
  ctx.setTitle('Executions');
  ctx.root.innerHTML = html`<h1 tabindex="-1">Executions</h1>
    <form class="filters" aria-label="Filter executions">
      <label>Workflow <select name="workflow"><option value="">all</option>${manifest.workflows.map((w) => html`<option ${w === workflow ? 'selected' : ''}>${w}</option>`)}</select></label>
      <label>Status <select name="status"><option value="">any</option>${manifest.statuses.map((s) => html`<option ${s === status ? 'selected' : ''}>${s}</option>`)}</select></label>
      <label>Instance <input name="instanceId" value="${instanceId}" placeholder="i-…" pattern="i-[0-9a-z]{26}" size="30"></label>
      <button type="submit">Filter</button>
    </form>
    <div class="executions"></div>`.value;
  ctx.root.querySelector('form')!.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    const filters: Record<string, string> = {};
    for (const [key, value] of data.entries()) if (typeof value === 'string' && value.trim()) filters[key] = value.trim();
    ctx.navigate(routes.executions(filters));
  });
  const filters: Record<string, string> = {};
  if (workflow) filters.workflow = workflow;
  if (status) filters.status = status;
  if (instanceId) filters.instanceId = instanceId;
  await executionsTable(ctx.root.querySelector<HTMLElement>('.executions')!, filters, 'Executions, newest first');
}
