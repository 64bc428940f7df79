/**
 * What the CLI prints for people: answers as short tables, and an operation's progress as one
 * line per step as it happens (a spinner on the running step when stderr is a terminal), the
 * error in red when a step or the operation fails.
 */
import { causeMessage } from '../lambdas/shared/execution-progress';
import type { CommandSpec, ProgressAnswer } from './commands';

/** How to print: colours, and in-place redraws on a terminal. */
export interface Style {
  color: boolean;
  tty: boolean;
}

const COLORS = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1, cyan: 36 } as const;
type Color = keyof typeof COLORS;
const paint = (style: Style, color: Color, text: string) => (style.color ? `\x1b[${COLORS[color]}m${text}\x1b[0m` : text);
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Seconds between two times, `0.4s`. */
function seconds(from: string | null, to: string | null): string {
  if (!from) return '';
  const ms = (to ? Date.parse(to) : Date.now()) - Date.parse(from);
  return Number.isFinite(ms) ? `${(Math.max(0, ms) / 1000).toFixed(1)}s` : '';
}

type Step = ProgressAnswer['steps'][number];

/** Prints an operation's steps as they change. */
export class Progress {
  private readonly seen = new Map<string, { status: string; attempts: number }>();
  private spinning: string | null = null;
  private frame = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Step | undefined;

  constructor(
    private readonly out: { write(text: string): unknown },
    private readonly style: Style,
  ) {}

  /** Colour text if colours are on. */
  paint(color: Color, text: string): string {
    return paint(this.style, color, text);
  }

  header(what: string, executionName: string): void {
    this.out.write(`${this.paint('bold', what)}  ${this.paint('dim', executionName)}\n`);
  }

  /** Print what changed since the last update. */
  update(steps: readonly Step[]): void {
    for (const step of steps) {
      const before = this.seen.get(step.name);
      if (before && before.status === step.status && before.attempts === step.attempts) continue;
      this.seen.set(step.name, { status: step.status, attempts: step.attempts });
      if (step.status === 'running') {
        if (before && step.attempts > before.attempts) this.line(this.paint('yellow', `  ↻ ${step.name}  attempt ${step.attempts}${step.error ? ` after ${step.error}${step.message ? `: ${step.message}` : ''}` : ''}`));
        else if (!before) this.started(step);
        continue;
      }
      this.finished(step);
    }
  }

  private started(step: Step): void {
    if (this.style.tty) {
      this.running = step;
      this.spin();
    } else this.line(`  … ${step.name}`);
  }

  private finished(step: Step): void {
    if (this.running?.name === step.name) this.clearSpinner();
    const took = this.paint('dim', seconds(step.enteredAt, step.exitedAt));
    const why = step.error ? `${step.error}${step.message ? `: ${step.message}` : ''}` : '';
    switch (step.status) {
      case 'succeeded':
        this.line(`  ${this.paint('green', '✓')} ${step.name}  ${took}`);
        break;
      case 'retried':
        this.line(`  ${this.paint('green', '✓')} ${step.name}  ${took}  ${this.paint('yellow', `after ${step.attempts} attempts`)}`);
        break;
      case 'caught':
        this.line(`  ${this.paint('red', '✗')} ${step.name}  ${took}  ${this.paint('red', why || 'failed')}  ${this.paint('dim', '(caught)')}`);
        break;
      default:
        this.line(`  ${this.paint('red', '✗')} ${step.name}  ${took}  ${this.paint('red', why || step.status)}`);
    }
  }

  /** The closing line: how the operation ended. */
  finish(execution: ProgressAnswer['execution']): void {
    this.stop();
    const took = seconds(execution.startedAt, execution.stoppedAt);
    if (execution.status === 'SUCCEEDED') this.out.write(`${this.paint('green', '✓')} ${execution.kind} succeeded in ${took}\n`);
    else {
      const message = causeMessage(execution.cause);
      this.out.write(this.paint('red', `✗ ${execution.kind} ${execution.status}${execution.error ? `: ${execution.error}` : ''}${message ? ` — ${message}` : ''}`) + '\n');
    }
  }

  /** Stop the spinner (before any other output). */
  stop(): void {
    this.clearSpinner();
  }

  private line(text: string): void {
    const resume = this.running;
    if (this.spinning !== null) this.out.write('\r\x1b[K');
    this.out.write(`${text}\n`);
    if (resume && this.spinning !== null) this.draw();
  }

  private spin(): void {
    this.spinning = this.running?.name ?? null;
    this.draw();
    this.timer ??= setInterval(() => this.draw(), 100);
    this.timer.unref?.();
  }

  private draw(): void {
    if (!this.running) return;
    this.frame = (this.frame + 1) % SPINNER.length;
    this.out.write(`\r\x1b[K  ${this.paint('cyan', SPINNER[this.frame]!)} ${this.running.name}  ${this.paint('dim', seconds(this.running.enteredAt, null))}`);
  }

  private clearSpinner(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.spinning !== null) this.out.write('\r\x1b[K');
    this.spinning = null;
    this.running = undefined;
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

type Instance = { id: string; name: string; status: string; provider: string; region: string; size: string; endpoint: string | null; createdAt: string; currentOperation: { kind: string; executionName: string } | null; [key: string]: unknown };

/** A successful answer, for people. */
export function renderAnswer(render: CommandSpec['render'], body: unknown, style: Style): string {
  if (render === 'accepted') {
    const accepted = body as { instance: Instance; operation: { kind: string; executionName: string } };
    return `${paint(style, 'green', 'accepted')}: ${accepted.operation.kind} of ${accepted.instance.id} (${accepted.instance.status}), execution ${accepted.operation.executionName}\n`;
  }
  if (render === 'instances') {
    const page = body as { items: Instance[]; nextCursor: string | null };
    if (page.items.length === 0) return 'no instances\n';
    return table([['ID', 'NAME', 'STATUS', 'PROVIDER', 'CREATED'], ...page.items.map((i) => [i.id, i.name, i.status, i.provider, i.createdAt])]) + (page.nextCursor ? `more: --cursor ${page.nextCursor}\n` : '');
  }
  if (render === 'instance') {
    const i = body as Instance;
    const errors = ['lastStartError', 'lastStopError', 'lastDestroyError', 'lastRecoveryError'].filter((field) => i[field]).map((field) => [field, (i[field] as { message: string }).message]);
    return table([
      ['id', i.id],
      ['name', i.name],
      ['status', i.status],
      ['provider', i.provider],
      ['region', i.region],
      ['size', i.size],
      ['endpoint', i.endpoint ?? '-'],
      ['operation', i.currentOperation ? `${i.currentOperation.kind} (${i.currentOperation.executionName})` : '-'],
      ['created', i.createdAt],
      ...errors.map(([field, message]) => [field!, paint(style, 'red', message!)]),
    ]);
  }
  if (render === 'cancelled') {
    const cancelled = body as { instance: Instance; operation: { kind: string; name: string; status: string }; settled: boolean };
    const { instance, operation } = cancelled;
    if (!cancelled.settled) return `${paint(style, 'yellow', 'cancelling')}: ${operation.kind} of ${instance.id}, execution ${operation.name} ${operation.status}; the sweep finishes the settle (slipway show ${instance.id})\n`;
    return `${paint(style, 'green', 'cancelled')}: ${operation.kind} of ${instance.id}, execution ${operation.name} ${operation.status}; the instance is ${instance.status}\n`;
  }
  if (render === 'providers') {
    const offered = body as { default: string | null; items: Array<{ name: string; kind: string; regions: string[]; sizes: string[] }> };
    if (offered.items.length === 0) return 'no providers configured\n';
    return table([['NAME', 'KIND', 'REGIONS', 'SIZES', ''], ...offered.items.map((p) => [p.name, p.kind, p.regions.join(','), p.sizes.join(','), p.name === offered.default ? 'default' : ''])]);
  }
  const page = body as { items: Array<{ name: string; kind: string; status: string; startedAt: string | null; requestedAt: string | null; error: string | null; cause: string | null }>; nextCursor?: string | null };
  if (page.items.length === 0) return 'no operations\n';
  return table([
    ['EXECUTION', 'KIND', 'STATUS', 'STARTED', 'ERROR'],
    ...page.items.map((e) => [e.name, e.kind, e.status, e.startedAt ?? e.requestedAt ?? '-', e.error ? `${e.error}${e.cause ? `: ${e.cause}` : ''}` : '']),
  ]) + (page.nextCursor ? `more: --cursor ${page.nextCursor}\n` : '');
}
