import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** One line of the table: a figure, its target (if any) and whether it met it. */
export interface Row {
  metric: string;
  value: string;
  target: string;
  /** Undefined when the figure has no target. */
  ok?: boolean;
}

/** Format milliseconds for the table. */
export const ms = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(x < 10 ? 2 : 1)} ms` : 'n/a');

/** Render rows as a fixed-width table: metric, value, target, ok?. */
export function renderTable(rows: readonly Row[]): string {
  const cells = rows.map((r) => [r.metric, r.value, r.target || '-', r.ok === undefined ? '' : r.ok ? 'ok' : 'MISS']);
  const header = ['metric', 'value', 'target', 'ok?'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) => c.map((cell, i) => (i === 1 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** Write `bench/results/latest.json`; returns its path. */
export function writeResults(results: unknown): string {
  const dir = path.join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'latest.json');
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
