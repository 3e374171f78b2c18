import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { ConnectorResult } from '../src/connectors/types.js';
import { LeanHistogram, Metrics } from '../src/metrics.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const ok: ConnectorResult = { status: 'ok' };

/** The exposition text of one metric, without its HELP line. */
async function exposition(registry: Registry, name: string): Promise<string> {
  const text = await registry.metrics();
  return text
    .split('\n\n')
    .find((block) => block.includes(`# TYPE ${name} `))
    ?.split('\n')
    .filter((line) => !line.startsWith('# HELP'))
    .join('\n')
    .trim() as string;
}

describe('metrics kept as plain numbers', () => {
  it('print a histogram exactly as prom-client prints the same observations', async () => {
    const lean = new Registry();
    const reference = new Registry();
    const ours = new LeanHistogram('latency_seconds', 'h', BUCKETS, lean);
    const theirs = new Histogram({
      name: 'latency_seconds',
      help: 'h',
      labelNames: ['connector_type'],
      buckets: BUCKETS,
      registers: [reference],
    });
    const observations: Array<[string, number]> = [
      ['.email', 0.0004],
      ['.email', 0.001],
      ['.email', 0.05],
      ['.webhook', 3],
      ['.email', 0.5],
      ['.webhook', 0.01],
    ];
    const observers = new Map<string, (v: number) => void>();
    for (const [type, value] of observations) {
      let observe = observers.get(type);
      if (observe === undefined) {
        observe = ours.observer({ connector_type: type });
        observers.set(type, observe);
      }
      observe(value);
      theirs.observe({ connector_type: type }, value);
    }
    const printed = await exposition(lean, 'latency_seconds');
    expect(printed).toBe(await exposition(reference, 'latency_seconds'));
    expect(printed).toContain('latency_seconds_bucket{le="0.01",connector_type=".email"} 2');
    expect(printed).toContain('latency_seconds_bucket{le="+Inf",connector_type=".webhook"} 2');
    ours.reset();
    expect(await exposition(lean, 'latency_seconds')).toBe('# TYPE latency_seconds histogram');
  });

  it('count runs, in-flight runs and vendor answers as prom-client counters and gauges would', async () => {
    const metrics = new Metrics({
      pools: () => ({ connected: 0, free: 0, pending: 0, queued: 0, running: 0 }),
      eventLogQueue: () => 0,
    });
    const reference = new Registry();
    const runs = new Counter({
      name: 'connectors_executions_total',
      help: 'x',
      labelNames: ['connector_type', 'outcome'],
      registers: [reference],
    });
    const answers = new Counter({
      name: 'connectors_vendor_requests_total',
      help: 'x',
      labelNames: ['connector_type', 'answer'],
      registers: [reference],
    });
    const inFlight = new Gauge({
      name: 'connectors_executions_in_flight',
      help: 'x',
      labelNames: ['connector_type'],
      registers: [reference],
    });

    const hook = metrics.forType('.webhook');
    const log = metrics.forType('.server-log');
    hook.started();
    hook.vendorAnswered('2xx', 0.02);
    hook.finished(ok, '2xx', 0.03);
    hook.started();
    hook.vendorAnswered('timeout', 1);
    hook.finished({ status: 'error', message: 'm', retry: true }, 'timeout', 1);
    log.started();
    log.finished(ok, undefined, 0.0001);
    log.started();
    runs.inc({ connector_type: '.webhook', outcome: 'success' });
    runs.inc({ connector_type: '.webhook', outcome: 'failure' });
    runs.inc({ connector_type: '.server-log', outcome: 'success' });
    answers.inc({ connector_type: '.webhook', answer: '2xx' });
    answers.inc({ connector_type: '.webhook', answer: 'timeout' });
    inFlight.set({ connector_type: '.webhook' }, 0);
    inFlight.set({ connector_type: '.server-log' }, 1);

    for (const name of [
      'connectors_executions_total',
      'connectors_vendor_requests_total',
      'connectors_executions_in_flight',
    ]) {
      expect(await exposition(metrics.registry, name)).toBe(await exposition(reference, name));
    }
    // A scrape hands the counts over once: the next scrape shows the same totals.
    log.finished(ok, undefined, 0.0001);
    runs.inc({ connector_type: '.server-log', outcome: 'success' });
    expect(await exposition(metrics.registry, 'connectors_executions_total')).toBe(
      await exposition(reference, 'connectors_executions_total'),
    );
    expect(await exposition(metrics.registry, 'connectors_executions_total')).toContain(
      'connectors_executions_total{connector_type=".server-log",outcome="success"} 2',
    );
  });
});
