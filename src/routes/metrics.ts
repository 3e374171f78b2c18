import type { Metrics } from '../metrics.js';
import type { TypedApp } from './common.js';

/** Prometheus exposition of the server's metrics. */
export function metricsRoutes(app: TypedApp, metrics: Metrics, allowAnonymous: boolean): void {
  app.get(
    '/metrics',
    {
      config: { auth: allowAnonymous ? 'none' : 'required' },
      schema: { summary: 'Prometheus metrics', tags: ['system'], hide: true },
    },
    async (_request, reply) => {
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
}
