import { Type } from '@sinclair/typebox';
import { StrictObject } from '../../schemas/common.js';

/** Torq's webhook hosts (US and EU); Kibana accepts no other host but localhost. */
export const TORQ_HOSTNAME = /^hooks\.(eu\.)?torq\.io$/;

export const ConfigSchema = StrictObject({
  webhookIntegrationUrl: Type.String(),
});

export const SecretsSchema = StrictObject({
  token: Type.String(),
});

/** `body` is JSON text, sent parsed. */
export const ParamsSchema = StrictObject({
  body: Type.String(),
});
