import { Type } from '@sinclair/typebox';
import { Nullable, StrictObject } from '../../schemas/common.js';

/** With basic auth the flow's URL is configuration; without, the URL carries the API key. */
export const ConfigSchema = StrictObject({
  configUrl: Nullable(Type.String(), { default: null }),
  usesBasic: Type.Boolean({ default: true }),
});

export const SecretsSchema = StrictObject({
  user: Nullable(Type.String(), { default: null }),
  password: Nullable(Type.String(), { default: null }),
  secretsUrl: Nullable(Type.String(), { default: null }),
});

export const ParamsSchema = StrictObject({
  alertActionGroupName: Type.Optional(Type.String()),
  signalId: Type.Optional(Type.String()),
  ruleName: Type.Optional(Type.String()),
  date: Type.Optional(Type.String()),
  severity: Type.String(),
  spaceId: Type.Optional(Type.String()),
  tags: Type.Optional(Type.String()),
});
