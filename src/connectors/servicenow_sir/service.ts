import { guarded, type ServiceNowService } from '../lib/servicenow/service.js';

/**
 * SecOps observables (IPs, hashes, URLs) go to the Elastic application's bulk endpoint once the
 * security incident exists, when the connector does not use the legacy Table API.
 */

export const OBSERVABLE_TYPES = { ip4: 'ipv4-addr', url: 'URL', sha256: 'SHA256' } as const;
type ObservableType = (typeof OBSERVABLE_TYPES)[keyof typeof OBSERVABLE_TYPES];

export interface Observable {
  value: string;
  type: ObservableType;
}

/** ServiceNow's accepted separators in one text: spaces, commas, pipes, new lines and tabs. */
const SPLIT = /[ ,|\r\n\t]+/;

type Observed = string | string[] | null;

export function observablesAsArray(observed: Observed): string[] {
  if (observed === null || observed.length === 0) return [];
  return typeof observed === 'string' ? observed.split(SPLIT) : observed;
}

export function formatObservables(values: readonly string[], type: ObservableType): Observable[] {
  return [...new Set(values)].filter((value) => value !== '').map((value) => ({ value, type }));
}

/** The legacy Table API takes observables in the incident, comma-joined. */
export function observablesAsText(observed: Observed): string | null {
  return Array.isArray(observed) ? observed.join(',') : observed;
}

export function bulkAddObservables(
  service: ServiceNowService,
  observables: readonly Observable[],
  incidentId: string,
) {
  return guarded(
    `Unable to add observables to security incident with id ${incidentId}`,
    { endpoint: 'other', method: 'post' },
    async () => {
      await service.checkIfApplicationIsInstalled();
      const res = await service.request(
        'POST',
        `${service.url}/api/x_elas2_sir_int/elastic_api/incident/${incidentId}/observables/bulk`,
        observables,
      );
      service.checkInstance(res);
      return service.resultOf(res);
    },
  );
}
