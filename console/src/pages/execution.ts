/**
 * One execution: its state graph drawn from the ASL it ran, coloured by its history and redrawn
 * as the history grows while it runs; each state's input, output, error and cause on selection.
 */
import type { ExecutionDetail, HistoryPage } from '../../../lambdas/views/executions';
import { causeMessage, stepsFromHistory, type HistoryEventView, type StepView } from '../../../lambdas/shared/execution-progress';
import { renderGraph, statusWord } from '../graph';
import { api, badge, duration, html, link, pretty, problemText, query, raw, routes, time } from '../lib';
import type { PageContext } from '../page';

/** How often a running execution is read again. */
const POLL_MS = 750;
/** Most history pages read for one drawing (1,000 events each). */
const MAX_HISTORY_PAGES = 20;

async function history(workflow: string, name: string): Promise<HistoryEventView[]> {
  const events: HistoryEventView[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < MAX_HISTORY_PAGES; i++) {
    const page: HistoryPage = await api<HistoryPage>('GET', `/v1/admin/executions/${encodeURIComponent(workflow)}/${encodeURIComponent(name)}/history${query({ limit: 1000, cursor })}`);
    events.push(...(page.events as HistoryEventView[]));
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return events;
}

function block(label: string, text: string | null): string {
  if (!text) return '';
  return html`<h3>${label}</h3><pre class="data">${pretty(text)}</pre>`.value;
}

/** A cause: its message first; a Lambda error payload (with its trace) folded away below it. */
function causeBlock(cause: string | null): string {
  if (!cause) return '';
  const message = causeMessage(cause);
  if (message === cause) return block('Cause', cause);
  return html`<h3>Cause</h3><p class="cause-message">${message}</p><details><summary>As recorded, with the trace</summary><pre class="data">${pretty(cause)}</pre></details>`.value;
}

/** The details of one state. */
function stateDetails(name: string, type: string, step: StepView | undefined): string {
  if (!step) return html`<h2 tabindex="-1">${name}</h2><p>${type} state. It has not run in this execution.</p>`.value;
  return (
    html`<h2 tabindex="-1">${name}</h2>
    <dl class="facts">
      <dt>Type</dt><dd>${type}</dd>
      <dt>Status</dt><dd>${badge(step.status)} ${statusWord(step)}</dd>
      <dt>Attempts</dt><dd>${step.attempts}</dd>
      <dt>Entered</dt><dd>${time(step.enteredAt)}</dd>
      <dt>Exited</dt><dd>${time(step.exitedAt)} ${step.exitedAt ? `(${duration(step.enteredAt, step.exitedAt)})` : ''}</dd>
    </dl>`.value +
    (step.error ? html`<h3>Error</h3><p class="error-text">${step.error}</p>`.value : '') +
    causeBlock(step.cause) +
    block('Input', step.input) +
    block('Output', step.output)
  );
}

/** `#/executions/<workflow>/<name>`. */
export async function executionPage(ctx: PageContext, workflow: string, name: string): Promise<void> {
  ctx.setTitle(name);
  ctx.root.innerHTML = html`<h1 tabindex="-1">${name}</h1><div class="summary" aria-live="polite"></div>
    <div class="execution-layout">
      <div class="graph-wrap"><p class="legend" aria-hidden="true">
        <span class="key key-succeeded">succeeded</span><span class="key key-retried">retried</span><span class="key key-caught">caught</span><span class="key key-failed">failed</span><span class="key key-running">running</span><span class="key key-not-run">not run</span></p>
        <div class="graph-host"></div></div>
      <aside class="state-details" aria-live="polite" aria-label="Selected state"><p>Select a state (click it, or Tab to it and press Enter) to see its input, output, error and cause.</p></aside>
    </div>
    <details class="events"><summary>History events</summary><div class="events-host"></div></details>`.value;
  const summary = ctx.root.querySelector<HTMLElement>('.summary')!;
  const graphHost = ctx.root.querySelector<HTMLElement>('.graph-host')!;
  const details = ctx.root.querySelector<HTMLElement>('.state-details')!;
  const eventsHost = ctx.root.querySelector<HTMLElement>('.events-host')!;
  let selected: string | null = null;
  let steps: StepView[] = [];
  let types: Record<string, string> = {};
  let drawnSignature = '';

  const select = (stateName: string, focusDetails: boolean) => {
    selected = stateName;
    for (const node of Array.from(graphHost.querySelectorAll<SVGGElement>('.state'))) node.classList.toggle('selected', node.dataset.state === stateName);
    details.innerHTML = stateDetails(stateName, types[stateName] ?? '?', steps.find((s) => s.name === stateName));
    if (focusDetails) details.querySelector<HTMLElement>('h2')?.focus();
  };
  graphHost.addEventListener('click', (event) => {
    const node = (event.target as Element).closest<SVGGElement>('.state');
    if (node?.dataset.state) select(node.dataset.state, false);
  });
  graphHost.addEventListener('keydown', (event) => {
    const node = (event.target as Element).closest<SVGGElement>('.state');
    if (node?.dataset.state && (event.key === 'Enter' || event.key === ' ')) {
      event.preventDefault();
      select(node.dataset.state, true);
    }
  });

  const draw = async (): Promise<boolean> => {
    const [detail, events] = await Promise.all([api<ExecutionDetail>('GET', `/v1/admin/executions/${encodeURIComponent(workflow)}/${encodeURIComponent(name)}`), history(workflow, name)]);
    steps = stepsFromHistory(events);
    const definition = JSON.parse(detail.definition) as { States: Record<string, { Type: string }> };
    types = Object.fromEntries(Object.entries(definition.States).map(([state, body]) => [state, body.Type]));
    summary.innerHTML = html`<dl class="facts">
      <dt>Status</dt><dd>${badge(detail.status)}</dd>
      <dt>Workflow</dt><dd>${link(routes.executions({ workflow }), workflow)}</dd>
      ${detail.instanceId ? html`<dt>Instance</dt><dd>${link(routes.instance(detail.instanceId), detail.instanceId)}</dd>` : ''}
      <dt>Started</dt><dd>${time(detail.startedAt)}</dd>
      <dt>Stopped</dt><dd>${time(detail.stoppedAt)} ${detail.stoppedAt ? `(${duration(detail.startedAt, detail.stoppedAt)})` : ''}</dd>
      ${detail.error ? html`<dt>Error</dt><dd class="error-text">${detail.error}</dd>` : ''}
      ${detail.consoleUrl ? html`<dt>AWS</dt><dd><a href="${detail.consoleUrl}" target="_blank" rel="noopener noreferrer">Open in the Step Functions console<span class="visually-hidden"> (opens a new tab)</span></a></dd>` : ''}
    </dl>
    ${detail.cause ? html`<div class="execution-cause">${raw(causeBlock(detail.cause))}</div>` : ''}
    <details><summary>Execution input</summary><pre class="data">${pretty(detail.input)}</pre></details>
    ${detail.output ? html`<details><summary>Execution output</summary><pre class="data">${pretty(detail.output)}</pre></details>` : ''}`.value;
    // Redraw only when something changed, and keep the keyboard focus on the state it was on.
    const signature = JSON.stringify(steps.map((s) => [s.name, s.status, s.attempts]));
    if (signature !== drawnSignature) {
      const focused = (document.activeElement as Element | null)?.closest?.<SVGGElement>('.state')?.dataset.state;
      graphHost.innerHTML = renderGraph(detail.definition, steps).value;
      drawnSignature = signature;
      if (focused) graphHost.querySelector<SVGGElement>(`.state[data-state="${CSS.escape(focused)}"]`)?.focus();
      if (selected) select(selected, false);
      eventsHost.innerHTML = html`<table class="list"><caption class="visually-hidden">History events, oldest first</caption><thead><tr><th scope="col">#</th><th scope="col">Type</th><th scope="col">State</th><th scope="col">Time</th></tr></thead><tbody>${events.map(
        (event) => html`<tr><td class="num">${event.id}</td><td>${event.type}</td><td>${(event.details?.name as string | undefined) ?? ''}</td><td>${time(event.timestamp)}</td></tr>`,
      )}</tbody></table>`.value;
    }
    ctx.root.dataset.executionStatus = detail.status;
    return detail.status === 'RUNNING';
  };

  try {
    let running = await draw();
    while (running && ctx.active()) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      if (!ctx.active()) break;
      running = await draw();
    }
  } catch (error) {
    summary.innerHTML = html`<p role="alert" class="error-text">${problemText(error)}</p>`.value;
  }
}
