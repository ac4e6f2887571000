/** Environments in words (colour only helps): shared by the banner, the gate, the static frame and plain mode. Imports nothing. */
export const ENV_WORD: Record<string, string> = { production: 'PRODUCTION', staging: 'STAGING', development: 'DEVELOPMENT', rehearsal: 'REHEARSAL' };
export const ENV_COLOR: Record<string, string> = { production: 'red', staging: 'yellow', development: 'green', rehearsal: 'blue' };

export function envWord(environment: string): string {
  return ENV_WORD[environment] ?? environment.toUpperCase();
}
