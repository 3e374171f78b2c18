import { Type } from '@sinclair/typebox';
import { StrictObject } from '../../schemas/common.js';

export const ConfigSchema = StrictObject({}, { default: {} });

/** An incoming-webhook or Workflows URL; either carries its secret in the URL itself. */
export const SecretsSchema = StrictObject({
  webhookUrl: Type.String(),
});

export const ParamsSchema = StrictObject({
  message: Type.String({ minLength: 1 }),
});
