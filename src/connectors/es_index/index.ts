import { fail, ok } from '../result.js';
import { type BulkResponse, defineConnector } from '../types.js';
import { ConfigSchema, ParamsSchema, SecretsSchema } from './schema.js';

const FAILED = 'error indexing documents';

/** `reason;reason (cause;cause)` from the failed items of a bulk answer. */
export function bulkErrorMessage(response: BulkResponse): string {
  const reasons: string[] = [];
  const causes: string[] = [];
  for (const item of response.items) {
    for (const outcome of Object.values(item)) {
      const error = outcome.error as
        | { reason?: string; caused_by?: { reason?: string } }
        | undefined;
      if (error?.reason) reasons.push(error.reason);
      if (error?.caused_by?.reason) causes.push(error.caused_by.reason);
    }
  }
  if (reasons.length === 0) return 'Indexing error but no reason returned.';
  return causes.length === 0 ? reasons.join(';') : `${reasons.join(';')} (${causes.join(';')})`;
}

export const indexConnector = defineConnector({
  id: '.index',
  name: 'Index',
  minimumLicenseRequired: 'basic',
  supportedFeatureIds: ['alerting', 'uptime', 'siem', 'workflows'],
  schema: { config: ConfigSchema, secrets: SecretsSchema, params: ParamsSchema },
  async execute(ctx) {
    const { config, params, services } = ctx;
    const index = params.indexOverride || config.index;
    const timeField = config.executionTimeField?.trim();
    const documents = timeField
      ? params.documents.map((doc) => ({ ...doc, [timeField]: new Date().toISOString() }))
      : params.documents;
    let response: BulkResponse;
    try {
      response = await services.index.bulkCreate(
        index,
        documents,
        new BulkOptions(config.refresh, ctx),
      );
    } catch (err) {
      return fail(FAILED, { serviceMessage: (err as Error).message });
    }
    if (response.errors) return fail(FAILED, { serviceMessage: bulkErrorMessage(response) });
    return ok(response);
  },
});

/**
 * A bulk write's options. The run's abort signal is made only if the index asks for it (the
 * embedded one never does), behind a getter of the class: an object literal with a getter costs
 * about a microsecond to make.
 */
class BulkOptions {
  constructor(
    readonly refresh: boolean,
    private readonly run: { signal: AbortSignal },
  ) {}

  get signal(): AbortSignal {
    return this.run.signal;
  }
}
