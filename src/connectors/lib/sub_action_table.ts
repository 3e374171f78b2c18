import { type TLiteral, type TObject, type TSchema, Type } from '@sinclair/typebox';
import { StrictObject } from '../../schemas/common.js';

/**
 * Kibana's "classic types with subAction" (Jira, ServiceNow, ...): the params schema is a union of
 * strict `{subAction, subActionParams}` shapes, one per sub-action, validated (and worded) as
 * config-schema words a oneOf. The handlers form a table keyed by every sub-action the union
 * names, each receiving that sub-action's own params, so a missing handler does not compile.
 */

export interface SubActionShape {
  subAction: string;
  subActionParams: unknown;
}

/** One branch of the params union. */
export function subActionBranch<const N extends string, S extends TSchema>(
  name: N,
  params: S,
): TObject<{ subAction: TLiteral<N>; subActionParams: S }> {
  return StrictObject({ subAction: Type.Literal(name), subActionParams: params });
}

export type SubActionHandler<Ctx, P> = (ctx: Ctx, params: P) => Promise<unknown>;

/** `Record<SubAction, Handler>`, each handler typed with its own sub-action's params. */
export type SubActionTable<P extends SubActionShape, Ctx> = {
  [N in P['subAction']]: SubActionHandler<Ctx, Extract<P, { subAction: N }>['subActionParams']>;
};

export function runSubAction<P extends SubActionShape, Ctx>(
  table: SubActionTable<P, Ctx>,
  ctx: Ctx,
  params: P,
): Promise<unknown> {
  const name: P['subAction'] = params.subAction;
  const handler = table[name] as SubActionHandler<Ctx, unknown>;
  return handler(ctx, params.subActionParams);
}
