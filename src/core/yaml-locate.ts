/** Source positions of YAML nodes, so every problem can say file:line:col. */
import { isMap, isScalar, isSeq, LineCounter, type Document, type Node } from 'yaml';

export type Path = readonly (string | number)[];
export interface Position {
  line: number;
  col: number;
}

export interface Locator {
  /** Position of the value at `path`, or of the nearest existing ancestor. */
  value(path: Path): Position;
  /** Position of the key of the entry at `path` (falls back to the value). */
  key(path: Path): Position;
  /** Whether a node exists at `path`. */
  has(path: Path): boolean;
  /** The first and last line of the node at `path` (with its key), when it exists. */
  lines(path: Path): { first: number; last: number } | undefined;
}

function nodeAt(doc: Document, path: Path): Node | undefined {
  let node: unknown = doc.contents;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return undefined;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
    } else {
      return undefined;
    }
  }
  return (node ?? undefined) as Node | undefined;
}

function keyNodeAt(doc: Document, path: Path): Node | undefined {
  if (path.length === 0) return undefined;
  const parent = nodeAt(doc, path.slice(0, -1));
  const last = path[path.length - 1];
  if (isMap(parent)) {
    const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(last));
    return (pair?.key ?? undefined) as Node | undefined;
  }
  return undefined;
}

export function makeLocator(doc: Document, lineCounter: LineCounter): Locator {
  const pos = (offset: number): Position => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, col: p.col };
  };
  const nearest = (path: Path): Node | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = nodeAt(doc, path.slice(0, n));
      if (node?.range) return node;
    }
    return undefined;
  };
  return {
    value(path) {
      const node = nearest(path);
      return node?.range ? pos(node.range[0]) : { line: 1, col: 1 };
    },
    key(path) {
      const k = keyNodeAt(doc, path);
      return k?.range ? pos(k.range[0]) : this.value(path);
    },
    has(path) {
      return nodeAt(doc, path) !== undefined;
    },
    lines(path) {
      const node = nodeAt(doc, path);
      if (!node?.range) return undefined;
      const k = keyNodeAt(doc, path);
      const start = k?.range ? k.range[0] : node.range[0];
      return { first: pos(start).line, last: pos(Math.max(start, node.range[1] - 1)).line };
    },
  };
}
