/** `drillbook schema`: the JSON Schema of the runbook format, derived from the zod schema. */
import { z } from 'zod';
import { runbookSchema } from '../core/schema.js';

export function runbookJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(runbookSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://drillbook.dev/schema/runbook.schema.json',
    title: 'drillbook runbook',
    description: 'A drillbook runbook: phases and steps to recover from a database-migration incident. See docs/runbook-format.md.',
  };
}

export function schemaCommand(out: NodeJS.WritableStream = process.stdout): number {
  out.write(`${JSON.stringify(runbookJsonSchema(), null, 2)}\n`);
  return 0;
}
