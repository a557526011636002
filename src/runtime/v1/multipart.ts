/**
 * Reads a multipart/form-data upload with a byte limit (413 before buffering more than allowed), then
 * lets the platform's FormData parser (undici's Response.formData) split it: no hand-rolled parser.
 */
import type { IncomingMessage } from "node:http";
import { hostedError } from "./errors.js";

export async function readMultipart(req: IncomingMessage, limit: number): Promise<FormData> {
  const type = req.headers["content-type"] ?? "";
  if (!/^multipart\/form-data\s*;.*\bboundary=/i.test(type)) {
    throw hostedError(
      415,
      "Unsupported media type",
      "upload files as multipart/form-data with a `content` part",
    );
  }
  const tooBig = (): Error =>
    hostedError(413, "Payload too large", `the upload is larger than the ${limit} byte limit`, {
      connection: "close",
    });
  if (Number(req.headers["content-length"] ?? 0) > limit) throw tooBig();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooBig();
    chunks.push(chunk);
  }
  try {
    return await new Response(Buffer.concat(chunks, size), { headers: { "content-type": type } }).formData();
  } catch (err) {
    throw hostedError(400, "Bad request", `malformed multipart body: ${(err as Error).message}`);
  }
}
