/**
 * Finding the part of the zod schema that a path points at, so errors can list the keys and
 * values that are allowed there. Reads zod's public `def` objects.
 */
import type { z } from 'zod';
import type { Path } from './yaml-locate.js';

type AnySchema = z.ZodType;

interface Def {
  type: string;
  shape?: Record<string, AnySchema>;
  element?: AnySchema;
  innerType?: AnySchema;
  options?: AnySchema[];
  valueType?: AnySchema;
  in?: AnySchema;
  out?: AnySchema;
  entries?: Record<string, string>;
  values?: unknown[];
}

function def(schema: AnySchema): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** Strip optional/default/pipe wrappers; unions are returned as the list of their options. */
function alternatives(schema: AnySchema): AnySchema[] {
  const d = def(schema);
  switch (d.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'readonly':
      return d.innerType ? alternatives(d.innerType) : [schema];
    case 'pipe':
      return d.in ? alternatives(d.in) : [schema];
    case 'union':
      return (d.options ?? []).flatMap(alternatives);
    default:
      return [schema];
  }
}

export function schemasAt(root: AnySchema, path: Path): AnySchema[] {
  let current = alternatives(root);
  for (const seg of path) {
    const next: AnySchema[] = [];
    for (const s of current) {
      const d = def(s);
      if (d.type === 'object' && typeof seg === 'string' && d.shape?.[seg]) next.push(...alternatives(d.shape[seg]));
      else if (d.type === 'array' && typeof seg === 'number' && d.element) next.push(...alternatives(d.element));
      else if (d.type === 'record' && d.valueType) next.push(...alternatives(d.valueType));
    }
    current = next;
  }
  return current;
}

/** The keys an object at `path` accepts. */
export function keysAt(root: AnySchema, path: Path): string[] {
  const keys = new Set<string>();
  for (const s of schemasAt(root, path)) {
    const d = def(s);
    if (d.type === 'object' && d.shape) for (const k of Object.keys(d.shape)) keys.add(k);
  }
  return [...keys];
}

/** The literal values an enum at `path` accepts. */
export function enumValuesAt(root: AnySchema, path: Path): string[] {
  const out: string[] = [];
  for (const s of schemasAt(root, path)) {
    const d = def(s);
    if (d.type === 'enum' && d.entries) out.push(...Object.values(d.entries));
    if (d.type === 'literal' && d.values) out.push(...d.values.map(String));
  }
  return out;
}

export function descriptionAt(root: AnySchema, path: Path): string | undefined {
  let current: AnySchema[] = [root];
  for (const seg of path) {
    const next: AnySchema[] = [];
    for (const s of current.flatMap(alternatives)) {
      const d = def(s);
      if (d.type === 'object' && typeof seg === 'string' && d.shape?.[seg]) next.push(d.shape[seg]);
      else if (d.type === 'array' && typeof seg === 'number' && d.element) next.push(d.element);
      else if (d.type === 'record' && d.valueType) next.push(d.valueType);
    }
    current = next;
  }
  for (const s of current) {
    let cur: AnySchema | undefined = s;
    while (cur) {
      if (cur.description) return cur.description;
      const d = def(cur);
      cur = d.innerType ?? d.in;
    }
  }
  return undefined;
}
