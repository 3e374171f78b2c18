import { Type } from '@sinclair/typebox';
import { StrictObject, StringEnum } from '../../schemas/common.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

export const ConfigSchema = StrictObject({}, { default: {} });
export const SecretsSchema = StrictObject({}, { default: {} });
export const ParamsSchema = StrictObject({
  message: Type.String(),
  level: StringEnum(LOG_LEVELS, { default: 'info' }),
});
