/**
 * Tells the code cache (src/boot/start.ts) that this run reached its command's interface, so the
 * cache written at exit holds that code. Harmless when the CLI runs without the code cache.
 */
export const WARM = Symbol.for('drillbook.code-cache.warm');

export function markWarm(): void {
  (globalThis as Record<symbol, unknown>)[WARM] = true;
}
