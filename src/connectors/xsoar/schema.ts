import { type Static, Type } from '@sinclair/typebox';
import { StrictObject } from '../../schemas/common.js';
import { CoercedNumber, NullableString } from '../lib/case_schemas.js';

export const ConfigSchema = StrictObject({ url: Type.String() });
export type XsoarConfig = Static<typeof ConfigSchema>;

/** apiKeyID is set for Cortex XSOAR 8 (cloud), whose API lives under /xsoar/public/v1. */
export const SecretsSchema = StrictObject({
  apiKey: Type.String(),
  apiKeyID: NullableString(),
});
export type XsoarSecrets = Static<typeof SecretsSchema>;

/** XSOAR incident severities: 0 unknown, 0.5 informational, 1 low ... 4 critical. */
export const SEVERITY = {
  UNKNOWN: 0,
  INFORMATIONAL: 0.5,
  LOW: 1,
  MEDIUM: 2,
  HIGH: 3,
  CRITICAL: 4,
} as const;

export const RunParamsSchema = StrictObject(
  {
    name: Type.String(),
    playbookId: NullableString(),
    createInvestigation: Type.Boolean(),
    severity: CoercedNumber(),
    isRuleSeverity: Type.Union([Type.Boolean(), Type.Null()], { default: false }),
    body: NullableString(),
  },
  { default: {} },
);
export type RunParams = Static<typeof RunParamsSchema>;

export const RunResponseSchema = Type.Object({}, { additionalProperties: true });

export const PlaybooksResponseSchema = Type.Object(
  {
    playbooks: Type.Array(
      Type.Object({ id: Type.String(), name: Type.String() }, { additionalProperties: true }),
    ),
  },
  { additionalProperties: true },
);
