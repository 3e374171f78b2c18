import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SPEC } from '../src/config/settings.js';
import { CONNECTOR_TYPES } from '../src/connectors/registry.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('documents every setting', () => {
    const missing = Object.keys(SPEC).filter(
      (key) => !readme.includes(`\`${key}\``) && !readme.includes(`${key}\` /`),
    );
    expect(missing).toEqual([]);
  });

  it('lists every connector type', () => {
    // A table row starting with the type id; markdown formatters pad the cell.
    const listed = (id: string) =>
      readme.split('\n').some((line) => line.split('|')[1]?.trim() === `\`${id}\``);
    const missing = CONNECTOR_TYPES.filter((t) => !listed(t.id)).map((t) => t.id);
    expect(missing).toEqual([]);
  });

  it('gives the two commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });
});
