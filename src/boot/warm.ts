/**
 * Tells the code cache (src/boot/start.ts) that this run reached its command's interface, so the
 * cache it writes holds that code. The loader may have left a function here to call (it then
 * writes the cache soon, while the start-up code is still compiled: V8 drops the bytecode of code
 * that has not run for a while, and a drill can last an hour). Harmless without the code cache.
 */
export const WARM = Symbol.for('drillbook.code-cache.warm');

export function markWarm(): void {
  const g = globalThis as Record<symbol, unknown>;
  const hook = g[WARM];
  g[WARM] = true;
  if (typeof hook === 'function') (hook as () => void)();
}
