/**
 * A minimal Server-Sent Events reader (event/data/id fields, multi-line data) over a response body (a
 * node:http answer or a fetch body: both iterate over byte chunks).
 */

export interface SseEvent {
  event: string;
  data: string;
  id?: string | undefined;
}

/**
 * Linear in the stream's size: a block's text is kept as a list of chunks and joined once its blank
 * line arrives (an event carrying a large file output spans thousands of chunks; searching and
 * flattening one growing string per chunk made a 20 MB output take tens of seconds).
 */
export async function* readSse(
  body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let pending: string[] = [];
  // The end of the pending text: a blank line may start in one chunk and end in the next.
  let tail = "";
  const BLANK_LINE = /\r?\n\r?\n/g;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    let text = decoder.decode(chunk, { stream: true });
    for (;;) {
      const probe = tail + text;
      BLANK_LINE.lastIndex = 0;
      const end = BLANK_LINE.exec(probe);
      if (!end) {
        pending.push(text);
        tail = probe.slice(-3);
        break;
      }
      const joined = pending.join("");
      // end.index counts from the start of `tail`, which is the last tail.length characters of joined.
      const block = (joined + text).slice(0, joined.length - tail.length + end.index);
      text = probe.slice(end.index + end[0].length);
      pending = [];
      tail = "";
      const event = parseBlock(block);
      if (event) yield event;
    }
  }
  const rest = parseBlock(pending.join("") + decoder.decode());
  if (rest) yield rest;
}

function parseBlock(block: string): SseEvent | undefined {
  let event = "message";
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    else if (field === "id") id = value;
  }
  return data.length === 0 ? undefined : { event, data: data.join("\n"), id };
}
