import { Counter, collectDefaultMetrics, Gauge, type Metric, Registry } from 'prom-client';
import type { ConnectorResult } from './connectors/types.js';
import type { OutboundErrorCode } from './http/client.js';

/**
 * Prometheus metrics, named after Alertmanager's notification metrics: runs by connector type
 * and outcome, why runs failed, how long they took, what vendors answered, and the gauges of the
 * outbound pools and the event-log queue.
 */

export type VendorAnswer = '2xx' | '3xx' | '4xx' | '5xx' | OutboundErrorCode;

export type FailureReason =
  | 'validation'
  | 'vendor_client_error'
  | 'vendor_server_error'
  | 'vendor_unreachable'
  | 'other';

export interface PoolCounts {
  connected: number;
  free: number;
  pending: number;
  queued: number;
  running: number;
}

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function answerClass(status: number): VendorAnswer {
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  if (status >= 300) return '3xx';
  return '2xx';
}

/** Why a run failed, from its result and the last thing the vendor answered. */
export function failureReason(
  result: ConnectorResult,
  lastAnswer: VendorAnswer | undefined,
): FailureReason {
  if (result.status === 'error' && result.message.startsWith('error validating'))
    return 'validation';
  if (lastAnswer === '4xx') return 'vendor_client_error';
  if (lastAnswer === '5xx') return 'vendor_server_error';
  if (lastAnswer !== undefined && lastAnswer !== '2xx' && lastAnswer !== '3xx')
    return 'vendor_unreachable';
  return 'other';
}

/** The metrics of one connector type, label values bound once. */
export interface TypeMetrics {
  started(): void;
  finished(result: ConnectorResult, lastAnswer: VendorAnswer | undefined, seconds: number): void;
  vendorAnswered(answer: VendorAnswer, seconds: number): void;
}

interface HistogramValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * A histogram whose series are plain numbers on the hot path: an observation is a bucket search
 * and three additions, with no label hashing or validation. It answers prom-client's registry
 * with the values a prom-client Histogram gives, so /metrics cannot tell them apart.
 */
export class LeanHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series: Array<{
    labels: Record<string, string>;
    counts: number[];
    sum: number;
    count: number;
  }> = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The observe function of one label set; call once per label set and keep it. */
  observer(labels: Record<string, string>): (value: number) => void {
    const series = { labels, counts: this.bounds.map(() => 0), sum: 0, count: 0 };
    this.series.push(series);
    const bounds = this.bounds;
    return (value) => {
      let i = 0;
      while (i < bounds.length && value > (bounds[i] as number)) i++;
      if (i < bounds.length) series.counts[i] = (series.counts[i] as number) + 1;
      series.sum += value;
      series.count += 1;
    };
  }

  async get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    values: HistogramValue[];
    aggregator: 'sum';
  }> {
    const values: HistogramValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, counts, sum, count } of this.series) {
      if (count === 0) continue;
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += counts[i] as number;
        values.push({ metricName: bucket, labels: { le, ...labels }, value: cumulative });
      });
      values.push({ metricName: bucket, labels: { le: '+Inf', ...labels }, value: count });
      values.push({ metricName: `${this.name}_sum`, labels, value: sum });
      values.push({ metricName: `${this.name}_count`, labels, value: count });
    }
    return {
      name: this.name,
      help: this.help,
      type: 'histogram',
      values,
      aggregator: this.aggregator,
    };
  }

  reset(): void {
    for (const series of this.series) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}

/** A count kept as a plain number and handed to its prom-client counter when scraped. */
class Tally {
  n = 0;
  constructor(readonly labels: Record<string, string>) {}
}

/** A prom-client counter fed by tallies at scrape time. */
function talliedCounter<L extends string>(
  config: { name: string; help: string; labelNames: L[]; registers: Registry[] },
  tallies: Tally[],
): Counter<L> {
  return new Counter({
    ...config,
    collect() {
      for (const tally of tallies) {
        if (tally.n === 0) continue;
        this.inc(tally.labels as Partial<Record<L, string>>, tally.n);
        tally.n = 0;
      }
    },
  });
}

export class Metrics {
  private readonly byType = new Map<string, TypeMetrics>();
  private readonly runTallies: Tally[] = [];
  private readonly vendorTallies: Tally[] = [];
  /** Runs under way, by connector type. */
  private readonly inFlight = new Map<string, { n: number }>();

  readonly registry = new Registry();
  readonly executions: Counter<'connector_type' | 'outcome'>;
  readonly executionsFailed: Counter<'connector_type' | 'reason'>;
  readonly executionLatency: LeanHistogram;
  readonly executionsInFlight: Gauge<'connector_type'>;
  readonly vendorRequests: Counter<'connector_type' | 'answer'>;
  readonly vendorLatency: LeanHistogram;

  /**
   * The metrics of one connector type. Runs and vendor answers are counted in plain numbers
   * that the prom-client metrics collect when scraped: a run costs a few additions.
   */
  forType(typeId: string): TypeMetrics {
    let bound = this.byType.get(typeId);
    if (bound !== undefined) return bound;
    const labels = { connector_type: typeId };
    const inFlight = { n: 0 };
    this.inFlight.set(typeId, inFlight);
    const latency = this.executionLatency.observer(labels);
    const success = new Tally({ ...labels, outcome: 'success' });
    const failure = new Tally({ ...labels, outcome: 'failure' });
    this.runTallies.push(success, failure);
    const vendorLatency = this.vendorLatency.observer(labels);
    const byAnswer = new Map<string, Tally>();
    bound = {
      started: () => {
        inFlight.n += 1;
      },
      finished: (result, lastAnswer, seconds) => {
        inFlight.n -= 1;
        latency(seconds);
        if (result.status === 'ok') success.n += 1;
        else {
          failure.n += 1;
          this.executionsFailed.inc({ ...labels, reason: failureReason(result, lastAnswer) });
        }
      },
      vendorAnswered: (answer, seconds) => {
        let answered = byAnswer.get(answer);
        if (answered === undefined) {
          answered = new Tally({ ...labels, answer });
          byAnswer.set(answer, answered);
          this.vendorTallies.push(answered);
        }
        answered.n += 1;
        vendorLatency(seconds);
      },
    };
    this.byType.set(typeId, bound);
    return bound;
  }

  constructor(sources: { pools: () => PoolCounts; eventLogQueue: () => number }) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.executions = talliedCounter(
      {
        name: 'connectors_executions_total',
        help: 'Connector runs, by connector type and outcome (success or failure).',
        labelNames: ['connector_type', 'outcome'],
        registers,
      },
      this.runTallies,
    );
    this.executionsFailed = new Counter({
      name: 'connectors_executions_failed_total',
      help: 'Failed connector runs, by connector type and reason.',
      labelNames: ['connector_type', 'reason'],
      registers,
    });
    this.executionLatency = new LeanHistogram(
      'connectors_execution_latency_seconds',
      'Time of a connector run, validation to result.',
      LATENCY_BUCKETS,
      this.registry,
    );
    const inFlight = this.inFlight;
    this.executionsInFlight = new Gauge({
      name: 'connectors_executions_in_flight',
      help: 'Connector runs under way.',
      labelNames: ['connector_type'],
      registers,
      collect() {
        for (const [type, runs] of inFlight) this.set({ connector_type: type }, runs.n);
      },
    });
    this.vendorRequests = talliedCounter(
      {
        name: 'connectors_vendor_requests_total',
        help: 'Requests to vendors, by connector type and answer (2xx..5xx, or timeout, network, too_large, not_allowed, redirect, aborted, invalid_url).',
        labelNames: ['connector_type', 'answer'],
        registers,
      },
      this.vendorTallies,
    );
    this.vendorLatency = new LeanHistogram(
      'connectors_vendor_request_latency_seconds',
      'Time of a request to a vendor, sent to answer read.',
      LATENCY_BUCKETS,
      this.registry,
    );
    new Gauge({
      name: 'connectors_outbound_connections',
      help: 'Outbound connections and requests across the vendor pools, by state.',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = sources.pools();
        for (const [state, value] of Object.entries(counts)) this.set({ state }, value);
      },
    });
    new Gauge({
      name: 'connectors_event_log_queue_length',
      help: 'Event-log records waiting to be written.',
      registers,
      collect() {
        this.set(sources.eventLogQueue());
      },
    });
  }
}
