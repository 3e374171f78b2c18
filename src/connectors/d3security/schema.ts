import { Type } from '@sinclair/typebox';
import { StrictObject } from '../../schemas/common.js';

export const ConfigSchema = StrictObject({ url: Type.String() });
export const SecretsSchema = StrictObject({ token: Type.String() });

export const RunParamsSchema = StrictObject({
  body: Type.Optional(Type.String()),
  severity: Type.Optional(Type.String({ default: '' })),
  eventType: Type.Optional(Type.String({ default: '' })),
});

export const RunResponseSchema = Type.Object(
  { refid: Type.String() },
  { additionalProperties: true },
);
