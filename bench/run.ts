/**
 * `npm run bench`: one in-process local slipway (in-memory DynamoDB Local, the local Step Functions
 * endpoint, the API on 127.0.0.1, the `local` provider over a temp dir, real retry timings), then
 * the scenarios: bundle sizes, per-operation costs, admission latency against its own round trips
 * (a bare read, the bare transaction of the same items, a bare StartExecution) and a bare PutItem
 * with the write units one admission consumes, 64-way same-owner contention (read first, and
 * transaction first), end-to-end provisions per second with real machine processes; and, when
 * named (`npm run bench -- load`), a 30 s mixed load at 64 connections. Prints a table and writes
 * bench/results/latest.json. Exits 0 when the run completed, whether or not targets were met.
 */
import os from 'node:os';
import { admissionLatency } from './admission-latency';
import { bundles } from './bundles';
import { costs } from './costs';
import { contention } from './contention';
import { ms, renderTable, writeResults, type Row } from './report';
import { load, LOAD_CONFIG } from './load';
import { throughput } from './throughput';
import { claimLookCost, listenerLatency, sweepCost } from './sweep';
import { driftCost, driftCostFly, type DriftSweepCost } from './drift';
import { recoveryTimes } from './recovery';
import { startBenchWorld } from './world';
import { workflowsInvoking } from '../infra/workflows';

const CONFIG = {
  admission: { warmup: 30, samples: 200 },
  contention: { rounds: 5, concurrency: 64 },
  throughput: [16, 32],
  sweep: { sizes: [2_000, 20_000], dueFraction: 0.01, listenerSamples: 20, lostClaims: 200 },
  recovery: { samples: 6, sweepPeriodSeconds: 5 },
  /** Running instances of the drift bench (BENCH_DRIFT_RUNNING to change), 1 % of them dead. */
  drift: { running: Number(process.env.BENCH_DRIFT_RUNNING ?? 20_000), flyRunning: Number(process.env.BENCH_DRIFT_FLY_RUNNING ?? 20_000), deadFraction: 0.01 },
  load: LOAD_CONFIG,
};
const TARGETS = {
  /** Admission adds at most 30 % to its own DynamoDB and Step Functions round trips. */
  ownRoundTripsP50Ratio: 1.3,
  /** Table and index write units of one admission. */
  admissionWriteUnits: 8,
  contended409P99Ms: 100,
  contendedMaxMs: 250,
  stepBundleKb: 320,
  apiBundleKb: 500,
  loadReadP99Ms: 50,
  sweepItemsReadPerDue: 1.2,
  listenerSettleMs: 2000,
  recoveryMarginSeconds: 10,
  /** A healthy fleet: provider calls per 1,000 running instances per sweep. */
  driftCallsPer1000: 1,
};

/** Scenarios, in the order they run; `npm run bench -- <name>…` runs only those. */
const SCENARIOS = ['bundles', 'sweep', 'costs', 'admission', 'contention', 'throughput', 'recovery', 'load', 'drift'] as const;
/** What `npm run bench` runs when no scenario is named (the load and drift benches only run when asked for). */
const DEFAULT_SCENARIOS: readonly Scenario[] = ['bundles', 'sweep', 'costs', 'admission', 'contention', 'throughput', 'recovery'];
type Scenario = (typeof SCENARIOS)[number];

/** The scenarios asked for on the command line (the default set when none is named). */
function chosenScenarios(): Set<Scenario> {
  const asked = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
  const unknown = asked.filter((arg) => !(SCENARIOS as readonly string[]).includes(arg));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')}`);
  return new Set((asked.length > 0 ? asked : DEFAULT_SCENARIOS) as Scenario[]);
}
/** The whole run must finish well within this, or it is killed (the JVM dies with it). */
const HARD_LIMIT_MS = 8 * 60_000;

const NOTES = [
  'Costs: one provision on a healthy local provider, then stop, start, restart, destroy; transitions = states entered (history), lambdas = Task invocations incl. retries, WCU/RCU = ConsumedCapacity (INDEXES) summed over every call — api = the HTTP request, wf = the workflow steps.',
  'Bundles: each catalog function built with the options cdk synth uses (esbuild, minified, source map, @aws-sdk/* external as the Node 22 runtime provides it); load = wall time of `node -e "require(bundle)"` in a fresh process, median of 10, including Node\'s own start (shown separately).',
  'Everything runs in one Node process on 127.0.0.1 (API, Step Functions endpoint, handlers, machines as child processes) against one in-memory DynamoDB Local JVM.',
  'Admission phase: the provider fails createVolume at once (FaultInjectingProvider, ProviderCapacity), so each background provision compensates without spawning a machine; executions are drained, untimed, after each sample. Tokens are minted before timing.',
  'Admission samples rotate: POST /v1/instances as configured (transaction first), the same reading first, the bare parts — a consistent BatchGetItem of the two items admission reads, a TransactWriteItems of the very items admission builds (admissionWritesFor, a fresh owner each), StartExecution of that provision — and one conditional PutItem, all on the runtime client (runtime.deps.db / sfn) and table. "own round trips" = transaction + StartExecution of the same sample (+ the read, for reading first).',
  'Write units: the bare transaction\'s ConsumedCapacity (INDEXES), and the HTTP admission\'s own TransactWriteItems recorded on the runtime client while its workflow is held (so no other transaction runs). DynamoDB Local charges 2 units per KB per item in a transaction, index entries included.',
  'Contention phase: 64 POSTs at once from a client process of its own (connections opened by one untimed burst). createVolume is held by a gate until the round ends, so the winner keeps its reservation as a real provision would; it then fails fast and compensates. Run twice: transaction first (the default: an admission alone transacts at once, those that find its owner\'s turn taken read together) and reads first (every admission reads before its transaction).',
  'Sweep: instances written straight to the table, 1 % due (running, machine gone: each is marked stopped), the rest due tomorrow; one run metered (ConsumedCapacity INDEXES) at each table size, the orphan inventory left out; the smaller table stays on the index during the larger run. Listener: a provision held in CreateVolume, StopExecution, time until the instance reads failed without a claim. Lost claims: stopped instances claimed by a `start` whose execution never started, taken two sweep periods ago (due one period after the claim); the run after them must find nothing; the looks of a claim running its operation’s whole timeout are counted with the sweep’s own rule (nextLookAt), one DescribeExecution each.',
  'End-to-end phase: the real local provider; "running" = provision execution SUCCEEDED and the instance item reads running. Machines are killed by provider shutdown at the end.',
  'Drift (`npm run bench -- drift`, only when asked; BENCH_DRIFT_RUNNING=N for another size): its own local world; N running instances written straight to the table, each with a machine record on the local provider (1,000 records a listing page), all naming one live stand-in process (N machine processes would not fit this machine), then 1 % of the records pointed at a dead process; inside their recovery cooldown, so each dead one is marked stopped (one fenced write) instead of starting a workflow. One reconcile run metered per line: provider calls (FaultInjectingProvider), table items read and keys written (a counting client), WCU (ConsumedCapacity INDEXES). The stopped instances\' machines stay listed (stopped), so each later run reads their instances again: reads follow the stopped machines, writes only what changed.',
  'Recovery: its own local world with the reconcile sweep on a 5 s timer (the inventory every sweep; the machine-exit push on, as on npm start, unless MACHINE_EXIT_PUSH=false); a running instance\'s machine process is SIGKILLed (after one to two sweep periods of running, so deaths fall at every phase of the sweep), GET /v1/instances/{id} polled every 50 ms until recovering, then running on a new machine; every other sample has a snapshot (old volume retained), the others not (deleted at once); one instance at a time, so provider calls from the death to running (sweep look + workflow; inventory calls of the orphan scan excluded) are its own.',
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
      // As test/cdk/bundles.test.ts: a step (a function some workflow invokes) within the step limit; the API and the sweeps within the API's.
      const limitKb = workflowsInvoking(fn.id).length > 0 ? TARGETS.stepBundleKb : TARGETS.apiBundleKb;
      rows.push(
        { metric: `bundle ${fn.id}`, value: `${(fn.bytes / 1024).toFixed(0)} KB`, target: `<= ${limitKb} KB`, ok: fn.bytes <= limitKb * 1024 },
        { metric: `load ${fn.id} p50 (incl. node start)`, value: ms(fn.loadMsP50), target: '' },
      );
    }
  }

  const needsWorld = chosen.has('sweep') || chosen.has('costs') || chosen.has('admission') || chosen.has('contention') || chosen.has('throughput') || chosen.has('load');
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
          { metric: `sweep ${size}: DescribeExecution calls`, value: String(run.describeCalls), target: '' },
        );
      }
      const claimLooks = await claimLookCost(world, CONFIG.sweep.lostClaims, 'a');
      rows.push(
        { metric: `sweep, ${claimLooks.claims} lost claims due: DescribeExecution calls / settled`, value: `${claimLooks.firstRun.describeCalls} / ${claimLooks.firstRun.settled}`, target: `= ${claimLooks.claims} / ${claimLooks.claims}`, ok: claimLooks.firstRun.describeCalls === claimLooks.claims && claimLooks.firstRun.settled === claimLooks.claims },
        { metric: `sweep, ${claimLooks.claims} lost claims: wall`, value: ms(claimLooks.firstRun.wallMs), target: '' },
        { metric: 'sweep after them: due / DescribeExecution calls', value: `${claimLooks.secondRun.due} / ${claimLooks.secondRun.describeCalls}`, target: '= 0 / 0', ok: claimLooks.secondRun.due === 0 && claimLooks.secondRun.describeCalls === 0 },
        ...Object.entries(claimLooks.looksOverTimeout).map(([kind, cost]) => ({ metric: `a ${kind} claim running its whole ${cost.timeoutSeconds} s: DescribeExecution calls`, value: String(cost.looks), target: '' })),
      );
      const listener = await listenerLatency(world, CONFIG.sweep.listenerSamples);
      results.sweep = { runs, claimLooks, listener };
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
      const units = adm.writeUnits;
      rows.push(
        ...(['p50', 'p99', 'max'] as const).map((p) => ({ metric: `admission ${p}`, value: ms(adm.admission[p]), target: '' })),
        ...(['p50', 'p99'] as const).map((p) => ({ metric: `bare TransactWriteItems (same items) ${p}`, value: ms(adm.transaction[p]), target: '' })),
        { metric: 'bare StartExecution p50', value: ms(adm.startExecution.p50), target: '' },
        { metric: 'own round trips (tx + start) p50', value: ms(adm.ownRoundTrips.p50), target: '' },
        ...(['p50', 'p99'] as const).map((p) => ({ metric: `bare putitem ${p}`, value: ms(adm.putItem[p]), target: '' })),
        { metric: 'admission / own round trips p50', value: `${adm.ratios.admissionToOwnRoundTripsP50.toFixed(2)}x`, target: `<= ${TARGETS.ownRoundTripsP50Ratio.toFixed(2)}x`, ok: adm.ratios.admissionToOwnRoundTripsP50 <= TARGETS.ownRoundTripsP50Ratio },
        { metric: 'admission / bare TransactWriteItems p50', value: `${adm.ratios.admissionToTransactionP50.toFixed(2)}x`, target: '' },
        { metric: 'admission / bare putitem p50', value: `${adm.ratios.admissionToPutItemP50.toFixed(2)}x`, target: '' },
        { metric: 'bare TransactWriteItems / putitem p50', value: `${adm.ratios.transactionToPutItemP50.toFixed(2)}x`, target: '' },
        { metric: 'admission, reads first: p50 (vs read+tx+start)', value: `${ms(adm.admissionReadsFirst.p50)} (${adm.ratios.admissionReadsFirstToOwnRoundTripsP50.toFixed(2)}x; read ${ms(adm.read.p50)})`, target: '' },
        {
          metric: 'admission write units (table+index), bare tx',
          value: `${units.transaction.writeUnits} (${units.transaction.writeUnits - units.transaction.indexWriteUnits}+${units.transaction.indexWriteUnits}) all samples ${JSON.stringify(units.transaction.distinct)}`,
          target: `<= ${TARGETS.admissionWriteUnits}`,
          ok: Math.max(...units.transaction.distinct) <= TARGETS.admissionWriteUnits,
        },
        {
          metric: 'admission write units (table+index), HTTP',
          value: `${units.admissionRequest.writeUnits} (${units.admissionRequest.writeUnits - units.admissionRequest.indexWriteUnits}+${units.admissionRequest.indexWriteUnits}), read ${units.admissionRequest.readUnits} RCU`,
          target: `<= ${TARGETS.admissionWriteUnits}`,
          ok: units.admissionRequest.writeUnits > 0 && units.admissionRequest.writeUnits <= TARGETS.admissionWriteUnits,
        },
        { metric: `admission non-202 (of ${2 * (adm.warmup + adm.samples) + 1})`, value: `${admErrors} ${JSON.stringify(adm.admissionErrors)}`, target: '0', ok: admErrors === 0 },
      );
    }

    if (world && chosen.has('contention')) {
      const races = [];
      // The default (transaction first, losers read together) carries the targets; reading first is measured beside it.
      for (const readsFirst of [false, true]) {
        const race = await contention(world, { ...CONFIG.contention, readsFirst });
        races.push(race);
        const mode = readsFirst ? 'reads first' : 'tx first';
        const oneWinner = race.rounds.filter((r) => r.admitted === 1).length;
        const otherCount = race.rounds.reduce((sum, r) => sum + Object.values(r.other).reduce((a, b) => a + b, 0), 0);
        const gated = readsFirst === world.runtime.deps.settings.admissionReadsFirst;
        rows.push(
          { metric: `contention (${mode}) rounds with one 202`, value: `${oneWinner}/${race.rounds.length}`, target: `${race.rounds.length}/${race.rounds.length}`, ok: oneWinner === race.rounds.length },
          { metric: `contention (${mode}) 202/409/other`, value: race.rounds.map((r) => `${r.admitted}/${r.refused}/${Object.values(r.other).reduce((a, b) => a + b, 0)}`).join(' '), target: '' },
          { metric: `contention (${mode}) other statuses`, value: String(otherCount), target: '0', ok: otherCount === 0 },
          { metric: `contention (${mode}) round wall`, value: race.rounds.map((r) => r.wallMs.toFixed(0)).join(' ') + ' ms', target: '' },
          { metric: `contention (${mode}) 409 p50`, value: ms(race.refusedLatency.p50), target: '' },
          { metric: `contention (${mode}) 409 p99`, value: ms(race.refusedLatency.p99), target: gated ? `<= ${TARGETS.contended409P99Ms} ms` : '', ...(gated ? { ok: race.refusedLatency.p99 <= TARGETS.contended409P99Ms } : {}) },
          { metric: `contention (${mode}) 409 max`, value: ms(race.refusedLatency.max), target: '' },
          { metric: `contention (${mode}) max (any request)`, value: ms(race.allLatency.max), target: gated ? `<= ${TARGETS.contendedMaxMs} ms` : '', ...(gated ? { ok: race.allLatency.max <= TARGETS.contendedMaxMs } : {}) },
        );
      }
      results.contention = races;
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
    if (world && chosen.has('load')) {
      const figures = await load(world);
      results.load = figures;
      for (const phase of [figures.saturated, figures.paced]) {
        const paced = phase.phase === 'paced';
        rows.push(
          { metric: `load ${phase.phase}: ${phase.connections} connections, ${phase.durationSeconds} s, throughput`, value: `${phase.requestsPerSecond.toFixed(0)} req/s (${phase.total} requests)`, target: '' },
          { metric: `load ${phase.phase}: 5xx + errors + timeouts`, value: `${phase.serverErrors} (${(phase.errorRate * 100).toFixed(3)} %)`, target: '0', ok: phase.serverErrors === 0 },
        );
        for (const route of phase.routes) {
          const gated = paced && route.kind === 'read';
          rows.push({
            metric: `load ${phase.phase}: ${route.name} (${route.connections} conn) p50 / p99`,
            value: `${ms(route.latency.p50)} / ${ms(route.latency.p99)}, ${route.requestsPerSecond.toFixed(1)} req/s, ${JSON.stringify(route.statuses)}`,
            target: gated ? `p99 <= ${TARGETS.loadReadP99Ms} ms` : '',
            ...(gated ? { ok: route.latency.p99 <= TARGETS.loadReadP99Ms } : {}),
          });
        }
      }
    }
  } finally {
    await world?.close();
  }

  if (chosen.has('drift')) {
    // Its own world: 20,000 seeded instances would weigh on the other scenarios' figures.
    const driftWorld = await startBenchWorld({ settings: { orphanScanSeconds: 86_400 } });
    try {
      const figures = await driftCost(driftWorld, CONFIG.drift.running, CONFIG.drift.deadFraction);
      results.drift = figures;
      const line = (label: string, run: DriftSweepCost) => [
        { metric: `drift ${label}: provider calls`, value: Object.entries(run.providerCalls).map(([m, n]) => `${m} ${n}`).join(', ') || '0', target: '' },
        { metric: `drift ${label}: provider calls per 1,000 running`, value: run.providerCallsPer1000Running.toFixed(3), target: run.dead === 0 && !run.audited ? `<= ${TARGETS.driftCallsPer1000}` : '', ok: run.dead === 0 && !run.audited ? run.providerCallsPer1000Running <= TARGETS.driftCallsPer1000 : undefined },
        { metric: `drift ${label}: table items read / writes (of them not the lease) / WCU`, value: `${run.tableItemsRead} / ${run.tableWrites} (${run.instanceWrites}) / ${run.writeUnits}`, target: run.dead === 0 ? '= _ / _ (0) / _' : '', ok: run.dead === 0 ? run.instanceWrites === 0 : undefined },
        { metric: `drift ${label}: actions / wall`, value: `${JSON.stringify(run.actions)} / ${ms(run.wallMs)}`, target: '' },
      ];
      rows.push(
        { metric: `drift: ${figures.running} running instances seeded (local provider records)`, value: ms(figures.seedMs), target: '' },
        ...line('none dead', figures.healthy),
        ...line(`${figures.onePercentDead.dead} dead (1 %)`, figures.onePercentDead),
        ...line('next sweep, dead settled', figures.afterSettled),
        ...line('hourly audit', figures.audit),
      );
      const fly = await driftCostFly(driftWorld, CONFIG.drift.flyRunning, CONFIG.drift.deadFraction);
      results.driftFly = fly;
      rows.push(
        { metric: `drift on the fake Fly: ${fly.running} started machines seeded`, value: ms(fly.seedMs), target: '' },
        ...line('Fly, none dead', fly.healthy),
        ...line(`Fly, ${fly.onePercentDead.dead} dead (1 %)`, fly.onePercentDead),
      );
    } finally {
      await driftWorld.close();
    }
  }

  if (chosen.has('recovery')) {
    // Its own world: the sweeps run on their timers here, which would disturb the other scenarios.
    const period = CONFIG.recovery.sweepPeriodSeconds;
    const recoveryWorld = await startBenchWorld({ sweepTimer: true, settings: { sweepPeriodSeconds: period, orphanScanSeconds: 86_400, machineExitPush: process.env.MACHINE_EXIT_PUSH !== 'false' } });
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
