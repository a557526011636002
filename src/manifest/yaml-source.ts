/**
 * Parses cog.yaml text with the `yaml` package and keeps, for every key path, where its key and
 * its value sit in the file, so every problem can be reported as `cog.yaml:LINE:COL`.
 */
import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument, type Node } from "yaml";
import {
  pathKey,
  positionIndex,
  type KeyPath,
  type NodeInfo,
  type Position,
  type PositionIndex,
} from "./yaml-index.js";

export type { KeyPath, NodeInfo, Position } from "./yaml-index.js";

export interface YamlSyntaxProblem {
  position: Position;
  message: string;
}

export interface ParsedYaml extends PositionIndex {
  /** The document as plain JSON values; undefined when the document has syntax errors. */
  value: unknown;
  errors: YamlSyntaxProblem[];
  warnings: YamlSyntaxProblem[];
}

// Guards against "billion laughs" documents: aliases beyond this are a syntax error, not a hang.
const MAX_ALIAS_COUNT = 100;

export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  // uniqueKeys is checked below in one pass: the library's own check is quadratic in the number of keys.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, version: "1.2" });
  const pos = (offset: number): Position => {
    const lp = lineCounter.linePos(offset);
    return { line: lp.line, column: lp.col };
  };
  const start: Position = { line: 1, column: 1 };
  const nodes = new Map<string, NodeInfo>();
  const structural: YamlSyntaxProblem[] = [];

  const visit = (node: unknown, path: KeyPath, keyPos: Position): void => {
    const valuePos = nodeStart(node) === undefined ? keyPos : pos(nodeStart(node) as number);
    const info: NodeInfo = { key: keyPos, value: valuePos };
    if (isScalar(node) && node.type === "PLAIN" && node.range) {
      info.plainSource = text.slice(node.range[0], node.range[1]).trim();
    }
    nodes.set(pathKey(path), info);
    if (isMap(node)) {
      const seen = new Map<string, Position>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyValue = isScalar(pair.key) ? pair.key.value : pair.key;
        const name = String(keyValue);
        const kStart = nodeStart(pair.key);
        const kPos = kStart === undefined ? valuePos : pos(kStart);
        const first = seen.get(name);
        if (first)
          structural.push({
            position: kPos,
            message: `duplicate key "${name}" (first at line ${first.line})`,
          });
        else seen.set(name, kPos);
        visit(pair.value, [...path, name], kPos);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const iStart = nodeStart(item);
        visit(item, [...path, i], iStart === undefined ? valuePos : pos(iStart));
      });
    }
  };
  try {
    const rootStart = nodeStart(doc.contents);
    visit(doc.contents, [], rootStart === undefined ? start : pos(rootStart));
  } catch (err) {
    // Only pathological nesting gets here (stack overflow): report it instead of crashing.
    structural.push({ position: start, message: err instanceof RangeError ? TOO_DEEP : String(err) });
  }

  const errors = [
    ...doc.errors.map((e) => ({ position: pos(e.pos[0]), message: firstLine(e.message) })),
    ...structural,
  ];
  const warnings = doc.warnings.map((e) => ({ position: pos(e.pos[0]), message: firstLine(e.message) }));
  let value: unknown;
  if (errors.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      errors.push({ position: start, message: err instanceof Error ? firstLine(err.message) : String(err) });
    }
  }

  return { value, errors, warnings, ...positionIndex(nodes) };
}

function nodeStart(node: unknown): number | undefined {
  if (node && (isScalar(node) || isMap(node) || isSeq(node) || isAlias(node))) {
    const range = (node as Node).range;
    return range ? range[0] : undefined;
  }
  return undefined;
}

const TOO_DEEP = "the file is nested too deeply";

function firstLine(message: string): string {
  if (/Maximum call stack/i.test(message)) return TOO_DEEP;
  const line = message.split("\n")[0] ?? message;
  // The yaml package appends " at line L, column C"; we print positions ourselves.
  return line.replace(/ at line \d+, column \d+:?$/, "").trim();
}
