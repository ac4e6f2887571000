/**
 * Ink's Text, with every string child passed through visible(): whatever data a component shows
 * (command output, database values, error text, titles), its control characters reach the terminal
 * as visible escapes, never as escapes the terminal acts on. Every component imports Text from here.
 */
import { Text as InkText, type TextProps } from 'ink';
import { createElement, type ReactNode } from 'react';
import { visible } from '../core/sanitize.js';

function clean(node: ReactNode): ReactNode {
  if (typeof node === 'string') return visible(node);
  if (Array.isArray(node)) return node.map(clean);
  return node;
}

export function Text({ children, ...props }: TextProps) {
  const kids: ReactNode[] = Array.isArray(children) ? children.map(clean) : [clean(children)];
  return createElement(InkText, props, ...kids);
}
