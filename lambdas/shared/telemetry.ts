/**
 * Telemetry: metrics behind a small port, so the domain says what happened (a provision succeeded,
 * how long it took) and the composition root decides where it goes — CloudWatch EMF through
 * Powertools Metrics on AWS, an in-memory record locally and in tests.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** Dimensions of one data point (kept few: every distinct set is its own CloudWatch metric). */
export type Dimensions = Record<string, string>;

/** Where lifecycle metrics go. */
export interface MetricsPort {
  /** One occurrence of an event (`ProvisionSucceeded`, `OperationFailed`…). */
  count(name: string, dimensions?: Dimensions): void;
  /** How long something took. */
  duration(name: string, milliseconds: number, dimensions?: Dimensions): void;
  /** A level observed now (items due, the age of the oldest). */
  gauge(name: string, value: number, dimensions?: Dimensions): void;
  /** Send what was recorded (once per invocation). */
  flush(): void;
}

/** Milliseconds from an ISO time to `now`, or null when unknown. */
export function elapsedMs(since: string | undefined, now: Date): number | null {
  const start = since ? Date.parse(since) : Number.NaN;
  return Number.isFinite(start) ? Math.max(0, now.getTime() - start) : null;
}

/** Count an operation's outcome and, when its start is known, record how long it took. */
export function recordOutcome(metrics: MetricsPort, outcome: 'Succeeded' | 'Failed', operation: string, startedAt: string | undefined, now: Date): void {
  const dimensions = { operation };
  metrics.count(`Operation${outcome}`, dimensions);
  const ms = elapsedMs(startedAt, now);
  if (ms !== null) metrics.duration(`Operation${outcome}Duration`, ms, dimensions);
}

/** The CloudWatch namespace of slipway's metrics. */
export const METRICS_NAMESPACE = 'slipway';

/** Powertools Metrics (EMF on stdout, which CloudWatch turns into metrics), one data point per event. */
export function powertoolsMetrics(serviceName = 'slipway'): MetricsPort {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
  const emit = (name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number, dimensions: Dimensions) => {
    // A single metric per call: each event carries only its own dimensions.
    const single = metrics.singleMetric();
    for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
    single.addMetric(name, unit, value);
  };
  return {
    count: (name, dimensions = {}) => emit(name, MetricUnit.Count, 1, dimensions),
    duration: (name, milliseconds, dimensions = {}) => emit(name, MetricUnit.Milliseconds, milliseconds, dimensions),
    gauge: (name, value, dimensions = {}) => emit(name, MetricUnit.Count, value, dimensions),
    flush: () => metrics.publishStoredMetrics(),
  };
}

/** One recorded data point. */
export interface DataPoint {
  name: string;
  unit: 'Count' | 'Milliseconds' | 'Gauge';
  value: number;
  dimensions: Dimensions;
  at: string;
}

/** Metrics kept in memory (the local runtime and tests read them; the newest `limit` are kept). */
export class RecordingMetrics implements MetricsPort {
  readonly points: DataPoint[] = [];

  constructor(private readonly limit = 10_000) {}

  count(name: string, dimensions: Dimensions = {}): void {
    this.record({ name, unit: 'Count', value: 1, dimensions, at: new Date().toISOString() });
  }

  duration(name: string, milliseconds: number, dimensions: Dimensions = {}): void {
    this.record({ name, unit: 'Milliseconds', value: milliseconds, dimensions, at: new Date().toISOString() });
  }

  gauge(name: string, value: number, dimensions: Dimensions = {}): void {
    this.record({ name, unit: 'Gauge', value, dimensions, at: new Date().toISOString() });
  }

  flush(): void {
    // Nothing to send: the points stay readable.
  }

  /** The points of one metric. */
  named(name: string): DataPoint[] {
    return this.points.filter((point) => point.name === name);
  }

  private record(point: DataPoint): void {
    this.points.push(point);
    if (this.points.length > this.limit) this.points.splice(0, this.points.length - this.limit);
  }
}
