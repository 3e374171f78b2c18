import { casesWebhookConnector } from './cases_webhook/index.js';
import { indexConnector } from './es_index/index.js';
import { resilientConnector } from './resilient/index.js';
import { serverLogConnector } from './server_log/index.js';
import { swimlaneConnector } from './swimlane/index.js';
import { theHiveConnector } from './thehive/index.js';
import type { AnyConnectorType } from './types.js';
import { xsoarConnector } from './xsoar/index.js';

/**
 * Every connector type the server knows, in the order GET /api/actions/connector_types lists
 * them. Adding a type is one import and one line here.
 */
export const CONNECTOR_TYPES: readonly AnyConnectorType[] = [
  indexConnector,
  serverLogConnector,
  resilientConnector,
  theHiveConnector,
  xsoarConnector,
  swimlaneConnector,
  casesWebhookConnector,
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
