import { type Static, Type } from '@sinclair/typebox';
import { Nullable, StrictObject } from '../../schemas/common.js';
import { GetChoicesParamsSchema, groupingKey } from '../lib/servicenow/schema.js';
import { subActionBranch } from '../lib/sub_action_table.js';

export { ConfigBaseSchema as ConfigSchema, SecretsSchema } from '../lib/servicenow/schema.js';

const nullableString = () => Nullable(Type.String(), { default: null });

/** An Event Management event; every field may be left out. */
export const AddEventParamsSchema = StrictObject(
  {
    source: nullableString(),
    event_class: nullableString(),
    resource: nullableString(),
    node: nullableString(),
    metric_name: nullableString(),
    type: nullableString(),
    severity: nullableString(),
    description: nullableString(),
    additional_info: nullableString(),
    message_key: groupingKey(),
    time_of_event: nullableString(),
  },
  { default: {} },
);
export type AddEventParams = Static<typeof AddEventParamsSchema>;

export const ParamsSchema = Type.Union([
  subActionBranch('addEvent', AddEventParamsSchema),
  subActionBranch('getChoices', GetChoicesParamsSchema),
]);
export type ItomParams = Static<typeof ParamsSchema>;
