import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
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

export class Metrics {
  private readonly byType = new Map<string, TypeMetrics>();

  readonly registry = new Registry();
  readonly executions: Counter<'connector_type' | 'outcome'>;
  readonly executionsFailed: Counter<'connector_type' | 'reason'>;
  readonly executionLatency: Histogram<'connector_type'>;
  readonly executionsInFlight: Gauge<'connector_type'>;
  readonly vendorRequests: Counter<'connector_type' | 'answer'>;
  readonly vendorLatency: Histogram<'connector_type'>;

  forType(typeId: string): TypeMetrics {
    let bound = this.byType.get(typeId);
    if (bound !== undefined) return bound;
    const labels = { connector_type: typeId };
    const inFlight = this.executionsInFlight.labels(labels);
    const latency = this.executionLatency.labels(labels);
    const success = this.executions.labels({ ...labels, outcome: 'success' });
    const failure = this.executions.labels({ ...labels, outcome: 'failure' });
    const vendorLatency = this.vendorLatency.labels(labels);
    const byAnswer = new Map<string, { inc(): void }>();
    bound = {
      started: () => inFlight.inc(),
      finished: (result, lastAnswer, seconds) => {
        inFlight.dec();
        latency.observe(seconds);
        if (result.status === 'ok') success.inc();
        else {
          failure.inc();
          this.executionsFailed.inc({ ...labels, reason: failureReason(result, lastAnswer) });
        }
      },
      vendorAnswered: (answer, seconds) => {
        let answered = byAnswer.get(answer);
        if (answered === undefined) {
          answered = this.vendorRequests.labels({ ...labels, answer });
          byAnswer.set(answer, answered);
        }
        answered.inc();
        vendorLatency.observe(seconds);
      },
    };
    this.byType.set(typeId, bound);
    return bound;
  }

  constructor(sources: { pools: () => PoolCounts; eventLogQueue: () => number }) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.executions = new Counter({
      name: 'connectors_executions_total',
      help: 'Connector runs, by connector type and outcome (success or failure).',
      labelNames: ['connector_type', 'outcome'],
      registers,
    });
    this.executionsFailed = new Counter({
      name: 'connectors_executions_failed_total',
      help: 'Failed connector runs, by connector type and reason.',
      labelNames: ['connector_type', 'reason'],
      registers,
    });
    this.executionLatency = new Histogram({
      name: 'connectors_execution_latency_seconds',
      help: 'Time of a connector run, validation to result.',
      labelNames: ['connector_type'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.executionsInFlight = new Gauge({
      name: 'connectors_executions_in_flight',
      help: 'Connector runs under way.',
      labelNames: ['connector_type'],
      registers,
    });
    this.vendorRequests = new Counter({
      name: 'connectors_vendor_requests_total',
      help: 'Requests to vendors, by connector type and answer (2xx..5xx, or timeout, network, too_large, not_allowed, redirect, aborted, invalid_url).',
      labelNames: ['connector_type', 'answer'],
      registers,
    });
    this.vendorLatency = new Histogram({
      name: 'connectors_vendor_request_latency_seconds',
      help: 'Time of a request to a vendor, sent to answer read.',
      labelNames: ['connector_type'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
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
