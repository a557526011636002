/** Error bodies the way the hosted API writes them (problem+json style: title, detail, status). */
import { HttpError } from "../http/respond.js";
import type { ValidationIssue } from "../../schema/validate.js";

export function hostedError(
  status: number,
  title: string,
  detail: string,
  headers?: Record<string, string>,
): HttpError {
  return new HttpError(status, { title, detail, status }, headers);
}

export function notFound(what: string): HttpError {
  return hostedError(404, "Not found", `${what} was not found`);
}

/** 422 with one line per problem in `detail` and the structured list in `invalid_fields`. */
export function invalidInput(issues: ValidationIssue[]): HttpError {
  const lines = issues.map((i) => `- ${i.loc.filter((l) => l !== "body").join(".")}: ${i.msg}`);
  return new HttpError(422, {
    title: "Input validation failed",
    detail: lines.join("\n"),
    status: 422,
    invalid_fields: issues.map((i) => ({
      type: i.type,
      field: i.loc.filter((l) => l !== "body").join("."),
      description: i.msg,
    })),
  });
}

/** Re-renders a container-API HttpError (e.g. from the shared body reader) in the hosted shape. */
export function asHosted(err: unknown): unknown {
  if (!(err instanceof HttpError)) return err;
  const body = err.body as { detail?: unknown; title?: unknown } | null;
  if (body && typeof body === "object" && "title" in body) return err;
  if (body && Array.isArray(body.detail)) return invalidInput(body.detail as ValidationIssue[]);
  const detail = body && typeof body.detail === "string" ? body.detail : err.message;
  return hostedError(err.status, titleFor(err.status), detail, err.headers);
}

function titleFor(status: number): string {
  switch (status) {
    case 400:
      return "Bad request";
    case 401:
      return "Unauthenticated";
    case 404:
      return "Not found";
    case 413:
      return "Payload too large";
    case 415:
      return "Unsupported media type";
    case 429:
      return "Too many requests";
    case 503:
      return "Service unavailable";
    default:
      return `HTTP ${status}`;
  }
}

/** 404 for a prediction of a train-only version (cog.yaml `train:` without `predict:`). */
export function noPredictor(model: string, version: string): HttpError {
  return hostedError(
    404,
    "Not found",
    `${model} version ${version} has no predict: entry (it only trains), so it cannot run predictions: ` +
      "create a training instead (POST /v1/models/{owner}/{name}/versions/{id}/trainings)",
  );
}

/** 404 for a training of a version whose model has no `train:` entry (kiln serve and the gateway). */
export function noTrainer(model: string, version: string): HttpError {
  return hostedError(
    404,
    "Not found",
    `${model} version ${version} has no trainer: its cog.yaml has no \`train:\` entry (e.g. ` +
      `train: "train.py:train"), so it cannot be trained`,
  );
}
