/**
 * Where each key path of cog.yaml sits: the position index the parser builds (yaml-source.ts), kept
 * apart from the `yaml` package so a manifest read from the cache (manifest-cache.ts) can still
 * position later problems without loading the parser.
 */

export type KeyPath = (string | number)[];

export interface Position {
  line: number;
  column: number;
}

export interface NodeInfo {
  /** Where the key of this entry starts (for list items: the item itself). */
  key: Position;
  /** Where the value starts (falls back to the key when the value is empty). */
  value: Position;
  /** For unquoted scalars: the text exactly as written (e.g. `3.10`, which YAML reads as 3.1). */
  plainSource?: string;
}

/** Lookups over the entries of one document, by `pathKey`. */
export interface PositionIndex {
  /** Position lookup: the entry for `path`, or for its nearest ancestor that has one. */
  locate(path: KeyPath): NodeInfo;
  /** The exact entry for `path`, if the file has one. */
  node(path: KeyPath): NodeInfo | undefined;
  /** Every entry, by `pathKey` (what the manifest cache stores). */
  readonly nodes: ReadonlyMap<string, NodeInfo>;
}

export function pathKey(path: KeyPath): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? part : `.${part}`;
  }
  return out;
}

const START: Position = { line: 1, column: 1 };

export function positionIndex(nodes: ReadonlyMap<string, NodeInfo>): PositionIndex {
  return {
    nodes,
    node: (path) => nodes.get(pathKey(path)),
    locate: (path) => {
      for (let n = path.length; n >= 0; n--) {
        const found = nodes.get(pathKey(path.slice(0, n)));
        if (found) return found;
      }
      return { key: START, value: START };
    },
  };
}
