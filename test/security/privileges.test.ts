import { describe, expect, it } from 'vitest';
import {
  KIBANA_APPLICATION,
  kibanaToApplications,
  PrivilegeSet,
  type RoleDescriptor,
  toRoleDescriptor,
} from '../../src/security/privileges.js';
import { RESERVED_ROLES } from '../../src/security/roles.js';

const role = (
  privileges: string[],
  resources: string[],
  cluster: string[] = [],
): RoleDescriptor => ({
  cluster,
  applications: [{ application: KIBANA_APPLICATION, privileges, resources }],
});

const reserved = (name: string) => {
  const r = RESERVED_ROLES[name];
  if (r === undefined) throw new Error(name);
  return { cluster: r.elasticsearch.cluster, applications: r.applications };
};

describe("Kibana's privilege model", () => {
  it('turns role entries into application privileges as Kibana serializes them', () => {
    expect(
      kibanaToApplications([
        { base: ['read'], spaces: ['*'] },
        { base: ['all'], spaces: ['a', 'b'] },
        { feature: { actions: ['all'], discover: ['read'] }, spaces: ['c'] },
      ]),
    ).toEqual([
      { application: KIBANA_APPLICATION, privileges: ['read'], resources: ['*'] },
      {
        application: KIBANA_APPLICATION,
        privileges: ['space_all'],
        resources: ['space:a', 'space:b'],
      },
      {
        application: KIBANA_APPLICATION,
        privileges: ['feature_actions.all', 'feature_discover.read'],
        resources: ['space:c'],
      },
    ]);
  });

  it('gives the same answers when asked again, per action and space, past the spaces it keeps', () => {
    const user = PrivilegeSet.ofRoles([
      role(['feature_actions.read'], ['space:s7']),
      role(['feature_actions.all'], ['space:s300']),
    ]);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 400; i++) {
        expect(user.kibana('actions:read', `s${i}`)).toBe(i === 7 || i === 300);
        expect(user.kibana('actions:all', `s${i}`)).toBe(i === 300);
      }
      expect(user.kibana('actions:read')).toBe(false);
      expect(user.kibana('login')).toBe(false);
    }
    const superuser = PrivilegeSet.ofRoles([reserved('superuser')]);
    expect(superuser.kibana('actions:endpoint_security_sub_actions', 's1')).toBe(true);
    expect(superuser.kibana('spaces:manage')).toBe(true);
  });

  it('grants per space, with read below all and spaces:manage only from global all', () => {
    const user = PrivilegeSet.ofRoles([
      role(['feature_actions.all'], ['space:a']),
      role(['feature_actions.read'], ['space:b']),
    ]);
    expect(user.kibana('actions:all', 'a')).toBe(true);
    expect(user.kibana('actions:endpoint_security_execute', 'a')).toBe(true);
    expect(user.kibana('actions:all', 'b')).toBe(false);
    expect(user.kibana('actions:read', 'b')).toBe(true);
    expect(user.kibana('actions:read', 'c')).toBe(false);
    expect(user.kibana('login', 'b')).toBe(true);
    expect(user.kibana('spaces:manage')).toBe(false);

    const admin = PrivilegeSet.ofRoles([reserved('kibana_admin')]);
    expect(admin.kibana('spaces:manage')).toBe(true);
    expect(admin.kibana('actions:all', 'anything')).toBe(true);
    expect(admin.kibana('actions:endpoint_security_sub_actions', 'x')).toBe(false);
    expect(admin.superuser).toBe(false);

    const viewer = PrivilegeSet.ofRoles([reserved('viewer')]);
    expect(viewer.kibana('actions:read', 'x')).toBe(true);
    expect(viewer.kibana('actions:all', 'x')).toBe(false);

    const superuser = PrivilegeSet.ofRoles([reserved('superuser')]);
    expect(superuser.superuser).toBe(true);
    expect(superuser.kibana('actions:endpoint_security_sub_actions', 'x')).toBe(true);
    expect(superuser.cluster('manage_security')).toBe(true);
  });

  it('matches wildcard resources and applications', () => {
    const user = PrivilegeSet.ofRoles([
      {
        cluster: [],
        applications: [
          { application: 'kibana-*', privileges: ['space_read'], resources: ['space:team-*'] },
        ],
      },
    ]);
    expect(user.kibana('actions:read', 'team-red')).toBe(true);
    expect(user.kibana('actions:read', 'other')).toBe(false);
  });

  it('minimal feature privileges leave the Endpoint Security sub-feature out', () => {
    const minimal = PrivilegeSet.ofRoles([role(['feature_actions.minimal_all'], ['*'])]);
    expect(minimal.kibana('actions:all', 'x')).toBe(true);
    expect(minimal.kibana('actions:endpoint_security_execute', 'x')).toBe(false);
    const withSub = PrivilegeSet.ofRoles([
      role(['feature_actions.minimal_read', 'feature_actions.endpoint_security_execute'], ['*']),
    ]);
    expect(withSub.kibana('actions:endpoint_security_execute', 'x')).toBe(true);
    expect(withSub.kibana('actions:all', 'x')).toBe(false);
  });

  it('limits an API key by both its own descriptors and its owner’s', () => {
    const owner = [role(['space_all'], ['space:a', 'space:b'], ['manage_own_api_key'])];
    const unrestricted = PrivilegeSet.ofApiKey([], owner);
    expect(unrestricted.kibana('actions:all', 'b')).toBe(true);
    expect(unrestricted.cluster('manage_own_api_key')).toBe(true);
    const narrowed = PrivilegeSet.ofApiKey([role(['all'], ['*'])], owner);
    expect(narrowed.kibana('actions:all', 'a')).toBe(true);
    expect(narrowed.kibana('actions:all', 'c')).toBe(false);
    expect(narrowed.kibana('spaces:manage')).toBe(false);
    expect(narrowed.cluster('manage_own_api_key')).toBe(false);
    const empty = PrivilegeSet.ofApiKey([toRoleDescriptor({})], owner);
    expect(empty.kibana('actions:read', 'a')).toBe(false);
  });

  it('reads role descriptors defensively', () => {
    expect(toRoleDescriptor(null)).toEqual({ cluster: [], applications: [] });
    expect(
      toRoleDescriptor({
        cluster: ['all', 3],
        applications: [{ application: 1 }, 'x', { application: 'a' }],
      }),
    ).toEqual({
      cluster: ['all'],
      applications: [{ application: 'a', privileges: [], resources: [] }],
    });
  });
});
