import { type Static, Type } from '@sinclair/typebox';
import { SPACE_ID_PATTERN } from '../spaces/path.js';
import { StrictObject, StringEnum } from './common.js';
import { withCheck } from './validate.js';

/** Wire shapes of the Spaces API (camelCase, as Kibana's). */

export const SpaceIdParams = StrictObject({ id: Type.String() });

const SpaceId = withCheck(Type.String({ description: 'The space identifier.' }), (v) =>
  SPACE_ID_PATTERN.test(v as string)
    ? undefined
    : "must be lower case, a-z, 0-9, '_', and '-' are allowed",
);

const Color = withCheck(Type.String(), (v) =>
  /^#[a-zA-Z0-9]{6}$/.test(v as string)
    ? undefined
    : 'must be a 6 digit hex color, starting with a #',
);

const ImageUrl = withCheck(Type.String(), (v) =>
  v === '' || (v as string).startsWith('data:image') ? undefined : "must start with 'data:image'",
);

export const SPACE_SOLUTIONS = ['es', 'oblt', 'security', 'classic'] as const;

export const SpaceBody = StrictObject({
  id: SpaceId,
  name: Type.String({ minLength: 1, description: 'The display name for the space.' }),
  description: Type.Optional(Type.String()),
  initials: Type.Optional(Type.String({ maxLength: 2 })),
  color: Type.Optional(Color),
  disabledFeatures: Type.Array(Type.String(), { default: [], maxItems: 100 }),
  _reserved: Type.Optional(Type.Boolean()),
  imageUrl: Type.Optional(ImageUrl),
  solution: Type.Optional(StringEnum(SPACE_SOLUTIONS)),
});
export type SpaceBody = Static<typeof SpaceBody>;

const authorizedPurposes = Type.Object({
  any: Type.Boolean(),
  copySavedObjectsIntoSpace: Type.Boolean(),
  findSavedObjects: Type.Boolean(),
  shareSavedObjectsIntoSpace: Type.Boolean(),
});

const spaceProperties = {
  id: Type.String(),
  name: Type.String(),
  description: Type.Optional(Type.String()),
  color: Type.Optional(Type.String()),
  initials: Type.Optional(Type.String()),
  imageUrl: Type.Optional(Type.String()),
  disabledFeatures: Type.Array(Type.String()),
  _reserved: Type.Optional(Type.Boolean()),
  solution: Type.Optional(Type.String()),
};

export const SpaceResponse = Type.Object(spaceProperties);
export const SpaceListResponse = Type.Array(
  Type.Object({ ...spaceProperties, authorizedPurposes: Type.Optional(authorizedPurposes) }),
);

export const SPACE_PURPOSES = [
  'any',
  'copySavedObjectsIntoSpace',
  'shareSavedObjectsIntoSpace',
] as const;

export const SpaceListQuery = withCheck(
  StrictObject({
    purpose: Type.Optional(StringEnum(SPACE_PURPOSES)),
    include_authorized_purposes: Type.Optional(Type.Boolean()),
  }),
  (v) => {
    const q = v as { purpose?: string; include_authorized_purposes?: boolean };
    return q.purpose !== undefined && q.include_authorized_purposes === true
      ? 'include_authorized_purposes can only be false when purpose is specified'
      : undefined;
  },
);
