/**
 * `${name}` in display text. Values are filled in for the operator to read; they are never spliced
 * into SQL (bind parameters) or shell text (environment variables).
 */

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export function placeholders(text: string): string[] {
  if (!text.includes('${')) return []; // most text has none: skip the regular expression
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** Fill `${name}` for display; unknown names stay as written. */
export function fillText(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole);
}

/** Show a shell command with `$name` and `${name}` of known inputs filled in, for the operator's eyes only. */
export function fillCommand(command: string, values: Readonly<Record<string, string>>): string {
  return command.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, a?: string, b?: string) => {
    const name = a ?? b ?? '';
    return values[name] ?? whole;
  });
}
