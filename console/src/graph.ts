/**
 * An execution's state graph, drawn from the ASL it ran, the way the Step Functions console draws
 * it: dagre lays the states out top to bottom, SVG draws them, and each state is coloured by what
 * the history says. Every state is a focusable button (Tab, Enter or Space opens its details).
 */
import dagre from '@dagrejs/dagre';
import type { StepView } from '../../lambdas/shared/execution-progress';
import { esc, Html, raw } from './lib';

/** The part of an ASL state the graph reads. */
interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: Array<{ Next?: string }>;
  Catch?: Array<{ ErrorEquals?: string[]; Next?: string }>;
}
interface Asl {
  StartAt: string;
  States: Record<string, AslState>;
}

const START = '__start';
const END = '__end';
const CHAR_WIDTH = 7.6;

/** One edge: solid for the way on, dashed for a Catch. */
interface GraphEdge {
  from: string;
  to: string;
  kind: 'next' | 'catch' | 'choice';
  label?: string;
}

/** The states and transitions of a definition. */
export function edgesOf(asl: Asl): GraphEdge[] {
  const edges: GraphEdge[] = [{ from: START, to: asl.StartAt, kind: 'next' }];
  for (const [name, state] of Object.entries(asl.States)) {
    if (state.Next) edges.push({ from: name, to: state.Next, kind: 'next' });
    for (const choice of state.Choices ?? []) if (choice.Next) edges.push({ from: name, to: choice.Next, kind: 'choice' });
    if (state.Default) edges.push({ from: name, to: state.Default, kind: 'choice', label: 'default' });
    for (const handler of state.Catch ?? []) if (handler.Next) edges.push({ from: name, to: handler.Next, kind: 'catch', label: (handler.ErrorEquals ?? []).join(', ') });
    if (state.End || state.Type === 'Succeed') edges.push({ from: name, to: END, kind: 'next' });
  }
  // The same pair twice (two Catch clauses to one state) is drawn once.
  const seen = new Set<string>();
  return edges.filter((edge) => {
    const key = `${edge.from}\n${edge.to}\n${edge.kind}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** How a state reads on the graph (a word, not only a colour). */
export function statusWord(step: StepView | undefined): string {
  if (!step) return 'not run';
  if (step.status === 'running') return step.attempts > 1 ? `running, attempt ${step.attempts}` : 'running';
  if (step.status === 'retried') return `succeeded after ${step.attempts} attempts`;
  if (step.status === 'caught') return 'failed, caught';
  return step.status;
}

/** The graph's SVG, every state labelled with its name and status. */
export function renderGraph(definition: string, steps: readonly StepView[]): Html {
  const asl = JSON.parse(definition) as Asl;
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 36, ranksep: 44, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  const names = Object.keys(asl.States);
  g.setNode(START, { width: 18, height: 18 });
  g.setNode(END, { width: 18, height: 18 });
  for (const name of names) g.setNode(name, { width: Math.max(150, name.length * CHAR_WIDTH + 32), height: 48 });
  const edges = edgesOf(asl);
  edges.forEach((edge, i) => g.setEdge(edge.from, edge.to, { minlen: 1, weight: edge.kind === 'catch' ? 1 : 4 }, `e${i}`));
  dagre.layout(g);

  const byName = new Map(steps.map((step) => [step.name, step]));
  const size = g.graph() as { width?: number; height?: number };
  const width = Math.ceil(size.width ?? 400);
  const height = Math.ceil(size.height ?? 400);
  const parts: string[] = [];
  parts.push(
    `<svg class="graph" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="group" aria-label="State graph: each state is a button that shows its input, output, error and cause">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"/></marker></defs>',
  );
  edges.forEach((edge, i) => {
    const points = (g.edge({ v: edge.from, w: edge.to, name: `e${i}` }) as { points?: Array<{ x: number; y: number }> }).points ?? [];
    if (points.length === 0) return;
    const d = points.map((p, j) => `${j === 0 ? 'M' : 'L'} ${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(' ');
    const taken = byName.has(edge.to) && (edge.from === START || byName.has(edge.from));
    parts.push(`<path class="edge edge-${edge.kind}${taken ? ' edge-taken' : ''}" d="${d}" marker-end="url(#arrow)"><title>${esc(edge.label ? `on ${edge.label}` : edge.kind)}</title></path>`);
  });
  for (const terminal of [START, END]) {
    const node = g.node(terminal) as { x: number; y: number };
    parts.push(`<circle class="terminal" cx="${node.x}" cy="${node.y}" r="8"><title>${terminal === START ? 'Start' : 'End'}</title></circle>`);
  }
  for (const name of names) {
    const node = g.node(name) as { x: number; y: number; width: number; height: number };
    const step = byName.get(name);
    const status = step ? step.status : 'not-run';
    const word = statusWord(step);
    const x = node.x - node.width / 2;
    const y = node.y - node.height / 2;
    parts.push(
      `<g class="state state-${status}" data-state="${esc(name)}" data-status="${status}" tabindex="0" role="button" aria-label="${esc(`${name}, ${asl.States[name]!.Type}, ${word}`)}">`,
      `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${node.width.toFixed(1)}" height="${node.height}" rx="8"/>`,
      `<text x="${node.x.toFixed(1)}" y="${(node.y - 4).toFixed(1)}" class="state-name">${esc(name)}</text>`,
      `<text x="${node.x.toFixed(1)}" y="${(node.y + 14).toFixed(1)}" class="state-status">${esc(word)}</text>`,
      '</g>',
    );
  }
  parts.push('</svg>');
  return raw(parts.join(''));
}
