/**
 * Route schemas list a property with a default as required (so handlers see it typed as
 * present), but a client may leave it out: the OpenAPI document says so.
 */
export function relaxDefaults(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(relaxDefaults);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) out[key] = relaxDefaults(value);
  const properties = out.properties as Record<string, { default?: unknown }> | undefined;
  if (Array.isArray(out.required) && properties !== undefined) {
    const required = (out.required as string[]).filter(
      (name) => properties[name]?.default === undefined,
    );
    if (required.length > 0) out.required = required;
    else delete out.required;
  }
  return out;
}
