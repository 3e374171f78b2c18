import { d3SecurityConnector } from './d3security/index.js';
import { indexConnector } from './es_index/index.js';
import { opsgenieConnector } from './opsgenie/index.js';
import { pagerDutyConnector } from './pagerduty/index.js';
import { serverLogConnector } from './server_log/index.js';
import { tinesConnector } from './tines/index.js';
import type { AnyConnectorType } from './types.js';
import { webhookConnector } from './webhook/index.js';

/**
 * Every connector type the server knows, in the order GET /api/actions/connector_types lists
 * them. Adding a type is one import and one line here.
 */
export const CONNECTOR_TYPES: readonly AnyConnectorType[] = [
  indexConnector,
  serverLogConnector,
  webhookConnector,
  pagerDutyConnector,
  opsgenieConnector,
  tinesConnector,
  d3SecurityConnector,
];

export class ConnectorTypeRegistry {
  private readonly byId: ReadonlyMap<string, AnyConnectorType>;
  private readonly enabledAll: boolean;
  private readonly enabled: ReadonlySet<string>;

  constructor(types: readonly AnyConnectorType[], enabledActionTypes: readonly string[]) {
    this.byId = new Map(types.map((t) => [t.id, t]));
    this.enabledAll = enabledActionTypes.includes('*');
    this.enabled = new Set(enabledActionTypes);
  }

  get(id: string): AnyConnectorType | undefined {
    return this.byId.get(id);
  }

  list(): AnyConnectorType[] {
    return [...this.byId.values()];
  }

  /** xpack.actions.enabledActionTypes. */
  isEnabledInConfig(id: string): boolean {
    return this.enabledAll || this.enabled.has(id);
  }
}
