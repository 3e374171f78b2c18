import { badRequest, conflict, forbidden, notFound } from '../errors.js';
import type { Authorization } from '../security/authorization.js';
import type { Principal } from '../security/principal.js';
import { type Space, type SpaceRepository, StoreConflictError } from '../store/types.js';

/** The Spaces API's rules: the reserved default space, unique ids, the space limit. */

export type SpaceInput = Omit<Space, '_reserved'> & { _reserved?: boolean };

const byName = (a: Space, b: Space) => a.name.localeCompare(b.name);

/** Only these attributes are taken from a request; `_reserved` cannot be set by a caller. */
function attributes(input: SpaceInput): Omit<Space, 'id' | '_reserved'> {
  const out: Omit<Space, 'id' | '_reserved'> = {
    name: input.name,
    disabledFeatures: input.disabledFeatures,
  };
  if (input.description !== undefined) out.description = input.description;
  if (input.initials !== undefined) out.initials = input.initials;
  if (input.color !== undefined) out.color = input.color;
  if (input.imageUrl !== undefined) out.imageUrl = input.imageUrl;
  if (input.solution !== undefined) out.solution = input.solution;
  return out;
}

export class SpacesService {
  constructor(
    private readonly repo: SpaceRepository,
    private readonly authorization: Authorization,
    private readonly maxSpaces: number,
  ) {}

  /** The spaces the caller holds any Kibana privilege in. */
  async list(principal: Principal): Promise<Space[]> {
    return (await this.repo.list())
      .filter((space) => this.authorization.canAccessSpace(principal, space.id))
      .sort(byName);
  }

  async get(principal: Principal, id: string): Promise<Space> {
    if (!this.authorization.canAccessSpace(principal, id)) {
      throw forbidden(`Unauthorized to get ${id} space`);
    }
    const space = await this.repo.get(id);
    if (space === undefined) throw notFound();
    return space;
  }

  async create(principal: Principal, input: SpaceInput): Promise<Space> {
    this.authorization.ensureManageSpaces(principal, 'create');
    if ((await this.repo.count()) >= this.maxSpaces) {
      throw badRequest(
        'Unable to create Space, this exceeds the maximum number of spaces set by the xpack.spaces.maxSpaces setting',
      );
    }
    const space: Space = { id: input.id, ...attributes({ ...input, name: input.name.trim() }) };
    try {
      await this.repo.create(space);
    } catch (err) {
      if (err instanceof StoreConflictError)
        throw conflict(`A space with the identifier ${input.id} already exists.`);
      throw err;
    }
    return space;
  }

  async update(principal: Principal, id: string, input: SpaceInput): Promise<Space> {
    this.authorization.ensureManageSpaces(principal, 'update');
    const existing = await this.repo.get(id);
    if (existing === undefined) throw notFound();
    // A partial update, as a saved-object update: attributes not given keep their value.
    const space: Space = { ...existing, ...attributes(input), id };
    if (!(await this.repo.update(space))) throw notFound();
    return space;
  }

  async delete(principal: Principal, id: string): Promise<void> {
    this.authorization.ensureManageSpaces(principal, 'delete');
    const existing = await this.repo.get(id);
    if (existing === undefined) throw notFound();
    if (existing._reserved)
      throw badRequest(`The ${id} space cannot be deleted because it is reserved.`);
    if (!(await this.repo.delete(id))) throw notFound();
  }
}
