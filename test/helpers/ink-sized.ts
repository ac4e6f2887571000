/**
 * ink-testing-library's render, on a terminal of a given size (its own is 100 columns, no rows):
 * the run screen lays itself out by the terminal's columns and rows, as on a real one.
 */
import { EventEmitter } from 'node:events';
import { render as inkRender } from 'ink';
import type { ReactElement } from 'react';

class Stdout extends EventEmitter {
  last: string | undefined;
  constructor(readonly columns: number, readonly rows: number) {
    super();
  }
  write = (frame: string) => {
    this.last = frame;
    return true;
  };
}

class Stdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  write = (data: string) => {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  };
  read = () => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
}

export function renderSized(tree: ReactElement, size: { columns: number; rows: number }) {
  const stdout = new Stdout(size.columns, size.rows);
  const stderr = new Stdout(size.columns, size.rows);
  const stdin = new Stdin();
  const instance = inkRender(tree, { stdout: stdout as never, stderr: stderr as never, stdin: stdin as never, debug: true, exitOnCtrlC: false, patchConsole: false });
  return { lastFrame: () => stdout.last, stdin, unmount: () => instance.unmount() };
}
