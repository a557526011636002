/**
 * ClientModel -> a self-contained Python module (standard library only, Python 3.9+): an `Input`
 * TypedDict, an `Output` dataclass (or alias), the pinned version, defaults, Client.run/create/wait and
 * stream() for iterator models, verify_webhook(), retries and the server's own input checks. Pure.
 */
import { enumTypeNames, fieldDocLines } from "./docs.js";
import { schemaMarker } from "./marker.js";
import { scalarName, type ClientModel, type FieldNode, type ScalarNames, type TypeNode } from "./model.js";
import { PY_RUNTIME, PY_SSE } from "./py-runtime.js";
import type { GenerateOptions } from "./ts.js";

const KEYWORDS = new Set(
  (
    "False None True and as assert async await break class continue def del elif else except finally for " +
    "from global if import in is lambda nonlocal not or pass raise return try while with yield"
  ).split(" "),
);
const RESERVED = new Set([
  "Input",
  "Output",
  "OutputChunk",
  "OutputFile",
  "FileInput",
  "Client",
  "InputIssue",
  "InputError",
  "PredictionError",
  "ApiError",
  "WebhookVerificationError",
]);

const isIdent = (name: string): boolean => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !KEYWORDS.has(name);

/** A Python expression for a JSON value (True/False/None; strings and numbers as JSON writes them). */
function pyLiteral(value: unknown, indent = ""): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "None";
  if (typeof value === "string") return JSON.stringify(value);
  const inner = `${indent}    `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => `${inner}${pyLiteral(v, inner)},`).join("\n")}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pyLiteral(v, inner)},`).join("\n")}\n${indent}}`;
}

const pyDoc = (v: unknown): string => pyLiteral(v).replace(/\s*\n\s*/g, " ");

function docString(lines: string[], indent: string): string[] {
  if (lines.length === 0) return [];
  // Only what could end the string early needs escaping: backslashes, """ and a closing quote.
  const safe = lines.map((l) => l.replaceAll("\\", "\\\\").replaceAll('"""', '\\"\\"\\"'));
  const last = safe.length - 1;
  if (safe[last]?.endsWith('"')) safe[last] = `${safe[last]?.slice(0, -1)}\\"`;
  if (safe.length === 1) return [`${indent}"""${safe[0]}"""`];
  return [`${indent}"""${safe[0]}`, ...safe.slice(1).map((l) => (l ? `${indent}${l}` : "")), `${indent}"""`];
}

const PY_NAMES: ScalarNames = {
  string: "str",
  integer: "int",
  number: "float",
  boolean: "bool",
  any: "Any",
  fileInput: "FileInput",
  fileOutput: "OutputFile",
};

function typeText(t: TypeNode, side: "input" | "output"): string {
  switch (t.kind) {
    case "enum": {
      // Literal takes str/int/bool, not floats.
      const ok = t.values.length > 0 && t.values.every((v) => typeof v !== "number" || Number.isInteger(v));
      return ok ? `Literal[${t.values.map((v) => pyLiteral(v)).join(", ")}]` : "Any";
    }
    case "array":
      return `List[${typeText(t.items, side)}]`;
    case "object":
      return "Dict[str, Any]";
    case "union":
      return `Union[${t.members.map((m) => typeText(m, side)).join(", ")}]`;
    default:
      return scalarName(t.kind, side, PY_NAMES);
  }
}

function annotation(f: FieldNode, side: "input" | "output", named?: string): string {
  const base = named ?? typeText(f.type, side);
  return f.nullable || (side === "output" && !f.required) ? `Optional[${base}]` : base;
}

function inputDeclaration(m: ClientModel, enums: Map<string, string>): string[] {
  const out: string[] = [];
  for (const f of m.inputs) {
    const name = enums.get(f.name);
    if (name !== undefined)
      out.push(`${name} = ${typeText(f.type, "input")}`, `"""The choices of \`${f.name}\`."""`, "");
  }
  const required = m.inputs.filter((f) => f.required);
  const optional = m.inputs.filter((f) => !f.required);
  const classy = m.inputs.every((f) => isIdent(f.name));
  const fieldLines = (fields: FieldNode[]): string[] =>
    fields.flatMap((f) => {
      const doc = fieldDocLines(f, pyDoc);
      if (f.deprecated) doc.push(...(doc.length > 0 ? [""] : []), "Deprecated by the model.");
      return [`    ${f.name}: ${annotation(f, "input", enums.get(f.name))}`, ...docString(doc, "    ")];
    });
  const functional = (name: string, fields: FieldNode[], total: boolean): string[] => {
    const body = fields.map(
      (f) => `    ${JSON.stringify(f.name)}: ${annotation(f, "input", enums.get(f.name))},`,
    );
    return [
      `${name} = TypedDict(${JSON.stringify(name)}, {\n${body.join("\n")}\n}${total ? "" : ", total=False"})`,
    ];
  };
  const doc = [`The inputs of ${m.model}.`];
  if (!classy) {
    // Names that are not Python identifiers: the functional TypedDict form (no per-field docs).
    out.push(...functional("_InputRequired", required, true));
    out.push("", ...functional("_InputOptional", optional, false), "");
    out.push("class Input(_InputRequired, _InputOptional):", ...docString(doc, "    "), "");
    return out;
  }
  if (required.length > 0 && optional.length > 0) {
    out.push("class _InputRequired(TypedDict):", ...fieldLines(required), "", "");
    out.push(
      "class Input(_InputRequired, total=False):",
      ...docString(doc, "    "),
      "",
      ...fieldLines(optional),
    );
  } else {
    out.push(
      `class Input(TypedDict${required.length > 0 ? "" : ", total=False"}):`,
      ...docString(doc, "    "),
    );
    out.push(...(m.inputs.length > 0 ? ["", ...fieldLines(m.inputs)] : []));
  }
  return out;
}

function outputDeclaration(m: ClientModel): string[] {
  const t = m.output.type;
  if (m.output.stream !== "none") {
    return [
      `OutputChunk = ${typeText(t, "output")}`,
      m.output.stream === "concatenate"
        ? '"""One piece of the output as the model streams it (join them for the whole text)."""'
        : '"""One item of the output as the model streams it."""',
      "",
      "Output = List[OutputChunk]",
      '"""The whole output: every chunk, in order."""',
    ];
  }
  const fields = t.kind === "object" ? t.fields : undefined;
  if (fields && fields.length > 0 && fields.every((f) => isIdent(f.name)) && !m.output.nullable) {
    // Required fields first: a dataclass field without a default cannot follow one with a default.
    const ordered = [...fields.filter((f) => f.required), ...fields.filter((f) => !f.required)];
    const lines = ordered.flatMap((f) => [
      `    ${f.name}: ${annotation(f, "output")}${f.required ? "" : " = None"}`,
      ...docString(fieldDocLines(f, pyDoc), "    "),
    ]);
    return ["@dataclass", "class Output:", ...docString(["The output of the model."], "    "), "", ...lines];
  }
  const base = typeText(t, "output");
  return [`Output = ${m.output.nullable ? `Optional[${base}]` : base}`, '"""The output of the model."""'];
}

function outputBuilder(m: ClientModel): string {
  const t = m.output.type;
  const fields = t.kind === "object" ? t.fields : undefined;
  const dataclassOut =
    m.output.stream === "none" &&
    fields !== undefined &&
    fields.length > 0 &&
    fields.every((f) => isIdent(f.name)) &&
    !m.output.nullable;
  if (!dataclassOut) return '        return _decode_files(prediction.get("output"), OUTPUT_SCHEMA, self)';
  return [
    '        value = _decode_files(prediction.get("output"), OUTPUT_SCHEMA, self)',
    "        if not isinstance(value, dict):",
    '            raise ApiError("GET", str(prediction.get("id")), 200, "the output is not an object: " + repr(value)[:200])',
    "        known = {f.name for f in dataclasses.fields(Output)}",
    "        return Output(**{k: v for k, v in value.items() if k in known})",
  ].join("\n");
}

const CLIENT_CLASS = String.raw`

class Client:
    """The thin, typed client of this one model: every call runs the pinned version with checked input."""

    def __init__(
        self,
        *,
        auth: Optional[str] = None,
        base_url: Optional[str] = None,
        version: Optional[str] = None,
        defaults: Optional[Input] = None,
        retries: int = 4,
        base_delay: float = 0.5,
        max_delay: float = 10.0,
        timeout: float = 90.0,
        poll_interval: float = 0.5,
    ) -> None:
        """auth: API token (default REPLICATE_API_TOKEN; a local kiln server accepts any token unless
        started with --api-token). base_url: the /v1 API (default REPLICATE_API_BASE_URL, else
        DEFAULT_BASE_URL). version: run another version than VERSION. defaults: your defaults, applied
        under each call's input. retries/base_delay/max_delay: backoff on 429/5xx. timeout: per request."""
        self.version = version if version is not None else VERSION
        self.defaults: Dict[str, Any] = dict(defaults or {})
        self.poll_interval = poll_interval
        self._http = _Transport(
            base_url or os.environ.get("REPLICATE_API_BASE_URL") or DEFAULT_BASE_URL,
            auth if auth is not None else os.environ.get("REPLICATE_API_TOKEN"),
            retries,
            base_delay,
            max_delay,
            timeout,
        )

    def _prepare(self, input: Input) -> Dict[str, Any]:
        if not isinstance(input, dict):
            raise InputError(check_input(input))
        merged = {**self.defaults, **input}
        issues = check_input(merged)
        if issues:
            raise InputError(issues)
        return {k: _encode(v) for k, v in merged.items()}

    def run(self, input: Input, *, timeout: Optional[float] = None) -> Output:
        """Runs the model and returns its typed output; raises InputError or PredictionError. timeout:
        give up (and cancel the prediction) after this many seconds."""
        # Not held open (Prefer: wait): Ctrl-C during a held create could not cancel what it started.
        prediction = self.create(input)
        return self.output(self.wait(prediction, timeout=timeout))

    def create(
        self,
        input: Input,
        *,
        webhook: Optional[str] = None,
        webhook_events_filter: Optional[Sequence[str]] = None,
        wait: Optional[int] = None,
    ) -> Dict[str, Any]:
        """Starts a prediction and returns it at once (or after up to wait seconds, 1-60); pair it with a
        webhook (verify it with verify_webhook) or wait()."""
        body: Dict[str, Any] = {"input": self._prepare(input)}
        if webhook is not None:
            body["webhook"] = webhook
        if webhook_events_filter is not None:
            body["webhook_events_filter"] = list(webhook_events_filter)
        headers = {"prefer": "wait=" + str(max(1, min(60, int(wait))))} if wait else {}
        if self.version is not None:
            body["version"] = self.version
            return self._http.json("POST", "/predictions", body, headers)
        return self._http.json("POST", "/models/" + MODEL + "/predictions", body, headers)

    def wait(self, prediction: Dict[str, Any], *, timeout: Optional[float] = None) -> Dict[str, Any]:
        """Polls until the prediction ends; raises PredictionError unless it succeeded. On timeout or
        Ctrl-C the prediction is canceled on the server first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        current = prediction
        interval = min(0.05, self.poll_interval)
        try:
            while current.get("status") not in _TERMINAL:
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError("prediction " + str(current.get("id")) + " did not finish in " + str(timeout) + " s")
                # Quick first polls for short predictions, then every poll_interval.
                time.sleep(interval)
                interval = min(interval * 2, self.poll_interval)
                current = self.get(str(current["id"]))
        except BaseException:
            if current.get("status") not in _TERMINAL:
                try:
                    self.cancel(str(current["id"]))
                except Exception:
                    pass
            raise
        if current.get("status") == "failed":
            raise PredictionError("failed", str(current.get("error") or "unknown error"), current)
        if current.get("status") != "succeeded":
            raise PredictionError("canceled", "", current)
        return current

    def get(self, prediction_id: str) -> Dict[str, Any]:
        """A prediction by id (e.g. the one a webhook told you about)."""
        return self._http.json("GET", "/predictions/" + urllib.parse.quote(prediction_id, safe=""))

    def cancel(self, prediction_id: str) -> Dict[str, Any]:
        """Cancels a prediction; a finished one is returned unchanged."""
        return self._http.json("POST", "/predictions/" + urllib.parse.quote(prediction_id, safe="") + "/cancel")

    def output(self, prediction: Dict[str, Any]) -> Output:
        """The typed output of a succeeded prediction (from create/wait/get or a verified webhook)."""
        if prediction.get("status") != "succeeded":
            status = "failed" if prediction.get("status") == "failed" else "canceled"
            raise PredictionError(status, str(prediction.get("error") or ""), prediction)
__OUTPUT_BUILDER__

    def _download(self, url: str) -> bytes:
        if url.startswith("data:"):
            with urllib.request.urlopen(url) as response:
                return response.read()
        with self._http.open("GET", url) as response:
            return response.read()
`;

const STREAM_METHOD = String.raw`
    def stream(self, input: Input) -> Iterator[OutputChunk]:
        """Runs the model and yields each output chunk as it is produced (server-sent events). Stopping
        early (break, close(), Ctrl-C) cancels the prediction on the server."""
        created = self.create(input)
        url = (created.get("urls") or {}).get("stream")
        if not url:
            raise ApiError("POST", "/predictions", 201, "the server offers no stream for this prediction")
        item = OUTPUT_SCHEMA.get("items") or {}
        finished = False
        try:
            with self._http.open("GET", url, headers={"accept": "text/event-stream"}, timeout=3600) as response:
                for event in _read_sse(response):
                    kind, data = event["event"], event["data"]
                    if kind == "output":
                        raw = data if item.get("type") == "string" else json.loads(data)
                        yield _decode_files(raw, item, self)
                    elif kind == "error":
                        finished = True
                        raise PredictionError("failed", data, self._quiet_get(str(created["id"])))
                    elif kind == "done":
                        finished = True
                        reason = json.loads(data or "{}").get("reason")
                        if reason == "canceled":
                            raise PredictionError("canceled", "", self._quiet_get(str(created["id"])))
                        if reason == "error":
                            raise PredictionError("failed", "", self._quiet_get(str(created["id"])))
                        return
            finished = True
        finally:
            if not finished:
                try:
                    self.cancel(str(created["id"]))
                except Exception:
                    pass

    def _quiet_get(self, prediction_id: str) -> Optional[Dict[str, Any]]:
        try:
            return self.get(prediction_id)
        except Exception:
            return None
`;

const IMPORTS = [
  "from __future__ import annotations",
  "",
  "import base64",
  "import dataclasses",
  "import email.utils",
  "import hashlib",
  "import hmac",
  "import json",
  "import math",
  "import mimetypes",
  "import os",
  "import pathlib",
  "import random",
  "import re",
  "import time",
  "import urllib.error",
  "import urllib.parse",
  "import urllib.request",
  "from dataclasses import dataclass",
  "from typing import Any, Dict, Iterator, List, Literal, Mapping, Optional, Sequence, TypedDict, Union",
];

/** The whole module. */
export function generatePython(m: ClientModel, opts: GenerateOptions): string {
  const enums = enumTypeNames(m.inputs, RESERVED);
  const streams = m.output.stream !== "none";
  const defaults = m.inputs.filter((f) => f.default !== undefined);
  const doc = [
    `Typed client for the model ${m.model}, generated by \`kiln client\` (kiln ${opts.kilnVersion}) from ${m.source}.`,
    "",
    "Do not edit: regenerate with",
    `    ${opts.command}`,
    "which also reports what changed in the model's interface and refuses breaking changes unless told.",
    "",
    `Every prediction runs version ${m.version ?? "(none pinned: the model's latest)"}.`,
    "Standard library only (Python 3.9+).",
  ];
  const parts = [
    ...docString(doc, ""),
    `# ${schemaMarker(m)}`,
    ...IMPORTS,
    "",
    `MODEL = ${pyLiteral(m.model)}`,
    '"""The model, as owner/name."""',
    `VERSION: Optional[str] = ${pyLiteral(m.version)}`,
    '"""The version every prediction runs (the image digest, or the API\'s version id)."""',
    `DEFAULT_BASE_URL = ${pyLiteral(m.baseUrl ?? "https://api.replicate.com/v1")}`,
    '"""The API this client talks to unless told otherwise (base_url, REPLICATE_API_BASE_URL)."""',
    PY_RUNTIME.trimEnd(),
    ...(streams ? [PY_SSE.trimEnd()] : []),
    "",
    "",
    "FileInput = Union[str, bytes, pathlib.Path]",
    '"""A file input: an http(s) URL or data: URI, or bytes / a local path (sent as a data: URI)."""',
    "",
    ...inputDeclaration(m, enums),
    "",
    "",
    ...outputDeclaration(m),
    "",
    `MODEL_DEFAULTS: Dict[str, Any] = ${pyLiteral(Object.fromEntries(defaults.map((f) => [f.name, f.default?.value])))}`,
    '"""The model\'s own defaults (the server applies them to inputs you leave out)."""',
    "",
    `INPUT_SCHEMA: Dict[str, Any] = ${pyLiteral(m.schema.input)}`,
    "",
    `OUTPUT_SCHEMA: Dict[str, Any] = ${pyLiteral(m.schema.output)}`,
    CLIENT_CLASS.replace("__OUTPUT_BUILDER__", outputBuilder(m)).trimEnd(),
    ...(streams ? [STREAM_METHOD.trimEnd()] : []),
  ];
  return parts.join("\n") + "\n";
}
