/**
 * Yoga (Ink's layout engine) from dist/yoga.wasm, instantiated synchronously. The package decodes
 * its WebAssembly from base64 behind a top-level await, which a CommonJS bundle cannot hold; the
 * build (scripts/build.mjs) points yoga-layout's entry here.
 */
import { readFileSync } from 'node:fs';

interface EmscriptenModule {
  instantiateWasm?: (imports: WebAssembly.Imports, receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) => WebAssembly.Exports;
  calledRun?: boolean;
}

export function loadYogaSync<T>(factory: (m: EmscriptenModule) => unknown): T {
  const wasm = new WebAssembly.Module(readFileSync(new URL('./yoga.wasm', import.meta.url)));
  const m: EmscriptenModule = {
    instantiateWasm(imports, receive) {
      const instance = new WebAssembly.Instance(wasm, imports);
      receive(instance, wasm);
      return instance.exports;
    },
  };
  // With a synchronous instantiateWasm, Emscripten's runtime is ready when the factory returns.
  void factory(m);
  if (!m.calledRun) throw new Error('yoga-layout did not start synchronously');
  return m as T;
}
