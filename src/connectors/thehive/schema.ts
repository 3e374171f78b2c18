import { type Static, Type } from '@sinclair/typebox';
import { Nullable, StrictObject } from '../../schemas/common.js';
import { CoercedNumber, NullableString, PushComments } from '../lib/case_schemas.js';

export const ConfigSchema = StrictObject({
  url: Type.String(),
  organisation: NullableString(),
});
export type TheHiveConfig = Static<typeof ConfigSchema>;

export const SecretsSchema = StrictObject({ apiKey: Type.String() });
export type TheHiveSecrets = Static<typeof SecretsSchema>;

/** TheHive severities (1 low ... 4 critical) and TLP levels (0 clear ... 4 red). */
export const SEVERITY = { LOW: 1, MEDIUM: 2, HIGH: 3, CRITICAL: 4 } as const;
export const TLP = { CLEAR: 0, GREEN: 1, AMBER: 2, AMBER_STRICT: 3, RED: 4 } as const;

const NullableNumber = () => Nullable(CoercedNumber(), { default: null });
const NullableTags = () => Nullable(Type.Array(Type.String()), { default: null });

export const PushToServiceParamsSchema = StrictObject(
  {
    incident: StrictObject(
      {
        title: Type.String(),
        description: Type.String(),
        severity: NullableNumber(),
        tlp: NullableNumber(),
        tags: NullableTags(),
        externalId: NullableString(),
      },
      { default: {} },
    ),
    comments: PushComments(),
  },
  { default: {} },
);
export type PushToServiceParams = Static<typeof PushToServiceParamsSchema>;

export const CreateAlertParamsSchema = StrictObject(
  {
    title: Type.String(),
    description: Type.String(),
    type: Type.String(),
    source: Type.String(),
    sourceRef: Type.String(),
    severity: NullableNumber(),
    isRuleSeverity: Type.Union([Type.Boolean(), Type.Null()], { default: false }),
    tlp: NullableNumber(),
    tags: NullableTags(),
    body: NullableString(),
  },
  { default: {} },
);
export type CreateAlertParams = Static<typeof CreateAlertParamsSchema>;

const loose = { additionalProperties: true } as const;

/** The fields Kibana requires in TheHive's answer for a case. */
export const CaseResponseSchema = Type.Object(
  {
    _id: Type.String(),
    _type: Type.String(),
    _createdBy: Type.String(),
    _createdAt: CoercedNumber(),
    number: CoercedNumber(),
    title: Type.String(),
    description: Type.String(),
    severity: CoercedNumber(),
    severityLabel: Type.String(),
    startDate: CoercedNumber(),
    flag: Type.Boolean(),
    tlp: CoercedNumber(),
    tlpLabel: Type.String(),
    pap: CoercedNumber(),
    papLabel: Type.String(),
    status: Type.String(),
    stage: Type.String(),
    extraData: Type.Object({}, loose),
    newDate: CoercedNumber(),
    timeToDetect: CoercedNumber(),
  },
  loose,
);

export const CommentResponseSchema = Type.Object(
  {
    _id: Type.String(),
    _type: Type.String(),
    createdBy: Type.String(),
    createdAt: CoercedNumber(),
    message: Type.String(),
    isEdited: Type.Boolean(),
    extraData: Type.Object({}, loose),
  },
  loose,
);

export const AlertResponseSchema = Type.Object(
  {
    _id: Type.String(),
    _type: Type.String(),
    _createdBy: Type.String(),
    _createdAt: CoercedNumber(),
    type: Type.String(),
    source: Type.String(),
    sourceRef: Type.String(),
    title: Type.String(),
    description: Type.String(),
    severity: CoercedNumber(),
    severityLabel: Type.String(),
    date: CoercedNumber(),
    tlp: CoercedNumber(),
    tlpLabel: Type.String(),
    pap: CoercedNumber(),
    papLabel: Type.String(),
    observableCount: CoercedNumber(),
    status: Type.String(),
    stage: Type.String(),
    extraData: Type.Object({}, loose),
    newDate: CoercedNumber(),
    timeToDetect: CoercedNumber(),
  },
  loose,
);

/** An update answers 204 or anything else: Kibana does not look at it. */
export const AnyResponseSchema = Type.Unknown();
