/**
 * `npm run bench`: one in-process local slipway (in-memory DynamoDB Local, the local Step Functions
 * endpoint, the API on 127.0.0.1, the `local` provider over a temp dir, real retry timings), then
 * three scenarios: admission latency against a bare PutItem, 64-way same-owner contention, and
 * end-to-end provisions per second with real machine processes. Prints a table and writes
 * bench/results/latest.json. Exits 0 when the run completed, whether or not targets were met.
 */
import os from 'node:os';
import { admissionLatency } from './admission-latency';
import { bundles } from './bundles';
import { costs } from './costs';
import { contention } from './contention';
import { ms, renderTable, writeResults, type Row } from './report';
import { throughput } from './throughput';
import { listenerLatency, sweepCost } from './sweep';
import { recoveryTimes } from './recovery';
import { startBenchWorld } from './world';

const CONFIG = {
  admission: { warmup: 50, samples: 300 },
  contention: { rounds: 5, concurrency: 64 },
  throughput: [16, 32],
  sweep: { sizes: [2_000, 20_000], dueFraction: 0.01, listenerSamples: 20 },
  recovery: { samples: 6, sweepPeriodSeconds: 5 },
};
const TARGETS = { admissionP50Ratio: 3.0, contendedMaxMs: 1000, stepBundleKb: 300, apiBundleKb: 500, sweepItemsReadPerDue: 1.2, listenerSettleMs: 2000, recoveryMarginSeconds: 10 };

/** Scenarios, in the order they run; `npm run bench -- <name>…` runs only those. */
const SCENARIOS = ['bundles', 'sweep', 'costs', 'admission', 'contention', 'throughput', 'recovery'] as const;
type Scenario = (typeof SCENARIOS)[number];

/** The scenarios asked for on the command line (all when none is named). */
function chosenScenarios(): Set<Scenario> {
  const asked = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
  const unknown = asked.filter((arg) => !(SCENARIOS as readonly string[]).includes(arg));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')}`);
  return new Set((asked.length > 0 ? asked : SCENARIOS) as Scenario[]);
}
/** The whole run must finish well within this, or it is killed (the JVM dies with it). */
const HARD_LIMIT_MS = 4 * 60_000;

const NOTES = [
  'Costs: one provision on a healthy local provider, then stop, start, restart, destroy; transitions = states entered (history), lambdas = Task invocations incl. retries, WCU/RCU = ConsumedCapacity (INDEXES) summed over every call — api = the HTTP request, wf = the workflow steps.',
  'Bundles: each catalog function built with the options cdk synth uses (esbuild, minified, source map, @aws-sdk/* external as the Node 22 runtime provides it); load = wall time of `node -e "require(bundle)"` in a fresh process, median of 10, including Node\'s own start (shown separately).',
  'Everything runs in one Node process on 127.0.0.1 (API, Step Functions endpoint, handlers, machines as child processes) against one in-memory DynamoDB Local JVM.',
  'Admission phase: the provider fails createVolume at once (FaultInjectingProvider, ProviderCapacity), so each background provision compensates without spawning a machine; executions are drained, untimed, after each admission sample. Tokens are minted before timing.',
  'Admission vs PutItem samples alternate one by one (order flipped each pair); PutItem uses the runtime client (runtime.deps.db) on the same table with attribute_not_exists(pk).',
  'Contention phase: createVolume is held by a gate until the round ends, so the winner keeps its reservation as a real provision would; it then fails fast and compensates.',
  'Sweep: instances written straight to the table, 1 % due (running, machine gone: each is marked stopped), the rest due tomorrow; one run metered (ConsumedCapacity INDEXES) at each table size, the orphan inventory left out; the smaller table stays on the index during the larger run. Listener: a provision held in CreateVolume, StopExecution, time until the instance reads failed without a claim.',
  'End-to-end phase: the real local provider; "running" = provision execution SUCCEEDED and the instance item reads running. Machines are killed by provider shutdown at the end.',
  'Recovery: its own local world with the reconcile sweep on a 5 s timer and drift checks due every 5 s; a running instance\'s machine process is SIGKILLed (after one to two sweep periods of running, so deaths fall at every phase of the sweep), GET /v1/instances/{id} polled every 50 ms until recovering, then running on a new machine; every other sample has a snapshot (old volume retained), the others not (deleted at once); one instance at a time, so provider calls from the death to running (sweep look + workflow; inventory calls of the orphan scan excluded) are its own.',
];

/** Distinct messages with their counts. */
function tally(messages: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of messages) counts.set(m, (counts.get(m) ?? 0) + 1);
  return counts;
}

async function main(): Promise<void> {
  const began = performance.now();
  const chosen = chosenScenarios();
  const rows: Row[] = [];
  const problems: string[] = [];
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    node: process.version,
    machine: { platform: `${os.platform()} ${os.release()}`, arch: os.arch(), cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: +(os.totalmem() / 2 ** 30).toFixed(1) },
    scenarios: [...chosen],
    config: CONFIG,
    targets: TARGETS,
  };

  if (chosen.has('bundles')) {
    const figures = bundles();
    results.bundles = figures;
    rows.push({ metric: 'node start (empty script) p50', value: ms(figures.nodeStartMsP50), target: '' });
    for (const fn of figures.functions) {
      const limitKb = fn.id === 'Api' ? TARGETS.apiBundleKb : TARGETS.stepBundleKb;
      rows.push(
        { metric: `bundle ${fn.id}`, value: `${(fn.bytes / 1024).toFixed(0)} KB`, target: `<= ${limitKb} KB`, ok: fn.bytes <= limitKb * 1024 },
        { metric: `load ${fn.id} p50 (incl. node start)`, value: ms(fn.loadMsP50), target: '' },
      );
    }
  }

  const needsWorld = chosen.has('sweep') || chosen.has('costs') || chosen.has('admission') || chosen.has('contention') || chosen.has('throughput');
  const world = needsWorld ? await startBenchWorld() : undefined;
  try {
    if (world && chosen.has('sweep')) {
      const runs = [];
      for (const [i, size] of CONFIG.sweep.sizes.entries()) {
        const run = await sweepCost(world, size, CONFIG.sweep.dueFraction, String.fromCharCode(97 + i));
        runs.push(run);
        rows.push(
          { metric: `sweep ${size} instances: due / index items read`, value: `${run.due} / ${run.itemsRead}`, target: '' },
          { metric: `sweep ${size}: items read per due item`, value: run.itemsReadPerDue.toFixed(2), target: `<= ${TARGETS.sweepItemsReadPerDue}`, ok: run.itemsReadPerDue <= TARGETS.sweepItemsReadPerDue },
          { metric: `sweep ${size}: queries / RCU / WCU`, value: `${run.indexQueries} / ${run.readUnits} / ${run.writeUnits}`, target: '' },
          { metric: `sweep ${size}: wall`, value: ms(run.wallMs), target: '' },
        );
      }
      const listener = await listenerLatency(world, CONFIG.sweep.listenerSamples);
      results.sweep = { runs, listener };
      rows.push(
        { metric: 'killed execution -> settled (listener) p50', value: ms(listener.settled.p50), target: '' },
        { metric: 'killed execution -> settled (listener) max', value: ms(listener.settled.max), target: `< ${TARGETS.listenerSettleMs} ms`, ok: listener.settled.max < TARGETS.listenerSettleMs },
      );
    }

    if (world && chosen.has('costs')) {
      const meters = await costs(world);
      results.costs = meters;
      for (const m of meters) {
        rows.push({
          metric: `${m.operation}: transitions / lambdas / WCU api+wf / RCU`,
          value: `${m.stateTransitions} / ${m.lambdaInvocations} / ${m.request.writeUnits}+${m.workflow.writeUnits} / ${m.request.readUnits + m.workflow.readUnits}`,
          target: '',
          ok: m.status === 'SUCCEEDED',
        });
      }
    }

    if (world && chosen.has('admission')) {
      const adm = await admissionLatency(world, CONFIG.admission);
      results.admission = adm;
      const admErrors = Object.values(adm.admissionErrors).reduce((a, b) => a + b, 0);
      rows.push(
        ...(['p50', 'p90', 'p99', 'max'] as const).map((p) => ({ metric: `admission ${p}`, value: ms(adm.admission[p]), target: '' })),
        ...(['p50', 'p90', 'p99', 'max'] as const).map((p) => ({ metric: `putitem ${p}`, value: ms(adm.putItem[p]), target: '' })),
        { metric: 'admission / putitem p50', value: `${adm.ratioP50.toFixed(2)}x`, target: `<= ${TARGETS.admissionP50Ratio.toFixed(1)}x`, ok: adm.ratioP50 <= TARGETS.admissionP50Ratio },
        { metric: 'admission / putitem p99', value: `${adm.ratioP99.toFixed(2)}x`, target: '' },
        { metric: `admission non-202 (of ${adm.warmup + adm.samples})`, value: `${admErrors} ${JSON.stringify(adm.admissionErrors)}`, target: '0', ok: admErrors === 0 },
      );
    }

    if (world && chosen.has('contention')) {
      const race = await contention(world, CONFIG.contention);
      results.contention = race;
      const oneWinner = race.rounds.filter((r) => r.admitted === 1).length;
      const otherCount = race.rounds.reduce((sum, r) => sum + Object.values(r.other).reduce((a, b) => a + b, 0), 0);
      rows.push(
        { metric: `contention rounds with one 202`, value: `${oneWinner}/${race.rounds.length}`, target: `${race.rounds.length}/${race.rounds.length}`, ok: oneWinner === race.rounds.length },
        { metric: 'contention 202/409/other', value: race.rounds.map((r) => `${r.admitted}/${r.refused}/${Object.values(r.other).reduce((a, b) => a + b, 0)}`).join(' '), target: '' },
        { metric: 'contention other statuses', value: String(otherCount), target: '0', ok: otherCount === 0 },
        { metric: 'contention round wall', value: race.rounds.map((r) => r.wallMs.toFixed(0)).join(' ') + ' ms', target: '' },
        ...(['p50', 'p99', 'max'] as const).map((p) => ({ metric: `contention 409 ${p}`, value: ms(race.refusedLatency[p]), target: '' })),
        { metric: 'contention max (any request)', value: ms(race.allLatency.max), target: `<= ${TARGETS.contendedMaxMs} ms`, ok: race.allLatency.max <= TARGETS.contendedMaxMs },
      );
    }

    if (world && chosen.has('throughput')) {
      const e2e = [];
      for (const [round, concurrency] of CONFIG.throughput.entries()) {
        const r = await throughput(world, { concurrency, round });
        e2e.push(r);
        for (const [why, count] of tally(r.errors)) problems.push(`e2e x${concurrency}: ${count} x ${why}`);
        rows.push(
          { metric: `e2e x${concurrency} provisions/s`, value: r.provisionsPerSecond.toFixed(2), target: '' },
          { metric: `e2e x${concurrency} wall`, value: ms(r.wallMs), target: '' },
          { metric: `e2e x${concurrency} POST->running p50`, value: ms(r.toRunning.p50), target: '' },
          { metric: `e2e x${concurrency} POST->running p99`, value: ms(r.toRunning.p99), target: '' },
          { metric: `e2e x${concurrency} failures`, value: String(r.failures), target: '0', ok: r.failures === 0 },
        );
      }
      results.throughput = e2e;
    }
  } finally {
    await world?.close();
  }

  if (chosen.has('recovery')) {
    // Its own world: the sweeps run on their timers here, which would disturb the other scenarios.
    const period = CONFIG.recovery.sweepPeriodSeconds;
    const recoveryWorld = await startBenchWorld({ sweepTimer: true, settings: { sweepPeriodSeconds: period, driftCheckSeconds: period, orphanScanSeconds: 86_400 } });
    try {
      const figures = await recoveryTimes(recoveryWorld, CONFIG.recovery.samples);
      results.recovery = figures;
      const goalMs = (period + TARGETS.recoveryMarginSeconds) * 1000;
      for (const why of figures.failures) problems.push(`recovery: ${why}`);
      rows.push(
        { metric: `recovery (sweep ${period} s): death -> recovering p50 / max`, value: `${ms(figures.toRecovering.p50)} / ${ms(figures.toRecovering.max)}`, target: '' },
        { metric: `recovery (sweep ${period} s): death -> running p50`, value: ms(figures.toRunning.p50), target: '' },
        { metric: `recovery (sweep ${period} s): death -> running max`, value: ms(figures.toRunning.max), target: `<= ${period + TARGETS.recoveryMarginSeconds} s`, ok: figures.toRunning.max <= goalMs },
        { metric: 'recovery: workflow (recovering -> running) p50', value: ms(figures.workflow.p50), target: '' },
        { metric: 'recovery: provider calls per recovery (p50 / max)', value: `${figures.providerCalls.total.p50} / ${figures.providerCalls.total.max}`, target: '' },
        { metric: 'recovery: old volume retained / deleted', value: `${figures.retained} / ${figures.deleted}`, target: '' },
        { metric: `recovery failures (of ${figures.samples})`, value: String(figures.failures.length), target: '0', ok: figures.failures.length === 0 },
      );
    } finally {
      await recoveryWorld.close();
    }
  }
  results.pass = rows.every((r) => r.ok !== false);
  results.checks = rows.filter((r) => r.ok !== undefined).map(({ metric, value, target, ok }) => ({ metric, value, target, ok }));
  results.notes = NOTES;
  const seconds = (performance.now() - began) / 1000;
  results.durationSeconds = +seconds.toFixed(1);
  const file = writeResults(results);
  process.stdout.write(`\nslipway bench — ${os.cpus().length} cpus, node ${process.version}, ${results.date as string}\n\n${renderTable(rows)}\n\n`);
  if (problems.length) process.stdout.write(`Failures:\n${problems.map((p) => `- ${p}`).join('\n')}\n\n`);
  process.stdout.write(NOTES.map((n) => `- ${n}`).join('\n') + `\n\n${results.pass ? 'all targets met' : 'some targets MISSED'}; run took ${seconds.toFixed(1)} s; results in ${file}\n`);
}

const limit = setTimeout(() => {
  process.stderr.write(`bench: exceeded ${HARD_LIMIT_MS / 1000} s, giving up\n`);
  process.exit(1);
}, HARD_LIMIT_MS);
limit.unref();

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
