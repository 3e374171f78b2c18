import { Type } from '@sinclair/typebox';
import { AnyRecord, Nullable, StrictObject } from '../../schemas/common.js';
import { withCheck } from '../../schemas/validate.js';

/** Only Kibana's alert-history indices may be targeted per run. */
export const ALERT_HISTORY_PREFIX = 'kibana-alert-history-';

export const ConfigSchema = StrictObject({
  index: Type.String(),
  refresh: Type.Boolean({ default: false }),
  executionTimeField: Nullable(Type.String(), { default: null }),
});

export const SecretsSchema = StrictObject({}, { default: {} });

export const ParamsSchema = StrictObject({
  documents: Type.Array(AnyRecord()),
  indexOverride: withCheck(Nullable(Type.String(), { default: null }), (value) =>
    typeof value === 'string' && !value.startsWith(ALERT_HISTORY_PREFIX)
      ? `index must start with "${ALERT_HISTORY_PREFIX}"`
      : undefined,
  ),
});
