import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Nullable, StrictObject } from '../schemas/common.js';
import { formatFailure, validate } from '../schemas/validate.js';
import { ok } from './result.js';
import {
  type AnyConnectorType,
  ConnectorError,
  type ConnectorType,
  type ConnectorValidators,
  defineConnector,
  type ExecuteContext,
  type FeatureId,
  type LicenseType,
} from './types.js';

/**
 * Kibana's sub-action framework: params are `{subAction, subActionParams}`; each sub-action has
 * its own params schema and handler. The handlers form a table keyed by the type's declared
 * sub-action names, so a name without a handler does not compile.
 */

export const SubActionParamsSchema = StrictObject({
  subAction: Type.String(),
  subActionParams: Type.Optional(Nullable(Type.Object({}, { additionalProperties: true }))),
});
export type SubActionParams = Static<typeof SubActionParamsSchema>;

export type SubActionContext<C, S> = ExecuteContext<C, S, SubActionParams>;

export interface SubAction<C, S> {
  params: TSchema | undefined;
  run(ctx: SubActionContext<C, S>, params: unknown): Promise<unknown>;
}

/** One sub-action: its params schema (or undefined to take them as given) and its handler. */
export function subAction<C, S, P extends TSchema | undefined>(
  params: P,
  run: (
    ctx: SubActionContext<C, S>,
    params: P extends TSchema ? Static<P> : Record<string, unknown>,
  ) => Promise<unknown>,
): SubAction<C, S> {
  return { params, run: run as SubAction<C, S>['run'] };
}

export interface SubActionConnectorDefinition<
  CS extends TSchema,
  SS extends TSchema,
  Name extends string,
> {
  id: string;
  name: string;
  minimumLicenseRequired: LicenseType;
  supportedFeatureIds: readonly FeatureId[];
  subFeature?: string;
  /** See ConnectorType.readOnlySubActions (EDR types). */
  readOnlySubActions?: readonly Name[];
  isDeprecated?: boolean;
  schema: { config: CS; secrets: SS };
  validate?: Omit<ConnectorValidators<Static<CS>, Static<SS>, SubActionParams>, 'params'>;
  subActionNames: readonly Name[];
  subActions: { [K in Name]: SubAction<Static<CS>, Static<SS>> };
}

export function notRegisteredMessage(
  subActionName: string,
  connectorId: string,
  type: { id: string; name: string },
) {
  return `Sub action "${subActionName}" is not registered. Connector id: ${connectorId}. Connector name: ${type.name}. Connector type: ${type.id}`;
}

export function defineSubActionConnector<
  CS extends TSchema,
  SS extends TSchema,
  Name extends string,
>(def: SubActionConnectorDefinition<CS, SS, Name>): AnyConnectorType {
  const table: Record<string, SubAction<Static<CS>, Static<SS>>> = def.subActions;
  const type: ConnectorType<CS, SS, typeof SubActionParamsSchema> = {
    id: def.id,
    name: def.name,
    minimumLicenseRequired: def.minimumLicenseRequired,
    supportedFeatureIds: def.supportedFeatureIds,
    ...(def.subFeature !== undefined ? { subFeature: def.subFeature } : {}),
    ...(def.readOnlySubActions !== undefined ? { readOnlySubActions: def.readOnlySubActions } : {}),
    ...(def.isDeprecated !== undefined ? { isDeprecated: def.isDeprecated } : {}),
    schema: {
      config: def.schema.config,
      secrets: def.schema.secrets,
      params: SubActionParamsSchema,
    },
    ...(def.validate !== undefined ? { validate: def.validate } : {}),
    async execute(ctx) {
      const { subAction: name, subActionParams } = ctx.params;
      const handler = Object.hasOwn(table, name) ? table[name] : undefined;
      if (handler === undefined) {
        throw new ConnectorError(notRegisteredMessage(name, ctx.connectorId, def), 'framework');
      }
      let params: unknown = subActionParams ?? {};
      if (handler.params !== undefined) {
        const checked = validate(handler.params, params);
        if (!checked.ok) {
          throw new ConnectorError(
            `Request validation failed (Error: ${formatFailure(checked)})`,
            'user',
          );
        }
        params = checked.value;
      }
      const data = await handler.run(ctx, params);
      return ok(data ?? {});
    },
  };
  return defineConnector(type);
}
