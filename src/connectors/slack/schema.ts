import { Type } from '@sinclair/typebox';
import { StrictObject } from '../../schemas/common.js';

export const ConfigSchema = StrictObject({}, { default: {} });

/** The incoming-webhook URL carries Slack's secret token in its path. */
export const SecretsSchema = StrictObject({
  webhookUrl: Type.String(),
});

export const ParamsSchema = StrictObject({
  message: Type.String({ minLength: 1 }),
});
