import { type Static, Type } from '@sinclair/typebox';
import { StrictObject, StringEnum } from '../../schemas/common.js';

export const CONNECTOR_ID = '.crowdstrike';
export const CONNECTOR_NAME = 'CrowdStrike';

export const SUB_ACTIONS = [
  'getAgentDetails',
  'hostActions',
  'getAgentOnlineStatus',
  'executeRTRCommand',
  'batchActiveResponderExecuteRTR',
  'batchAdminExecuteRTR',
  'getRTRCloudScripts',
] as const;
export type SubActionName = (typeof SUB_ACTIONS)[number];

/** The only real-time response base command Kibana lets through. */
export const SUPPORTED_RTR_COMMANDS: readonly string[] = ['runscript'];

export const ConfigSchema = StrictObject({ url: Type.String() });
export type Config = Static<typeof ConfigSchema>;

export const SecretsSchema = StrictObject({
  clientId: Type.String(),
  clientSecret: Type.String(),
});
export type Secrets = Static<typeof SecretsSchema>;

export const GetAgentsParamsSchema = StrictObject({ ids: Type.Array(Type.String()) });
export type GetAgentsParams = Static<typeof GetAgentsParamsSchema>;

export const HostActionsParamsSchema = StrictObject({
  command: StringEnum(['contain', 'lift_containment'] as const),
  actionParameters: Type.Optional(Type.Object({}, { additionalProperties: true })),
  ids: Type.Array(Type.String()),
  alertIds: Type.Optional(Type.Array(Type.String())),
  comment: Type.Optional(Type.String()),
});
export type HostActionsParams = Static<typeof HostActionsParamsSchema>;

/**
 * Kibana declares these params as `any`; the two fields it reads are checked here so a bad call
 * is refused before a session is opened, and anything else is let through as Kibana does.
 */
export const RTRCommandParamsSchema = Type.Object(
  { command: Type.String(), endpoint_ids: Type.Array(Type.String()) },
  { additionalProperties: true },
);
export type RTRCommandParams = Static<typeof RTRCommandParamsSchema>;
