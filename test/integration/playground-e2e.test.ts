/// <reference lib="dom" />
/**
 * The browser playground end to end, in headless Chromium against real `kiln playground` / `kiln serve
 * --no-docker` processes: the form from the schema, server validation at the field, streamed text, an
 * image output, cancel, compare across two servers (CORS), history, the webhook inspector, keyboard
 * use, the API token prompt, and copied curl / JS / Python snippets that give the page's output.
 * Screenshots go to $KILN_SCREENSHOTS_DIR (docs/images/playground refreshes the docs) or a temp dir.
 */
import { execFile, type ChildProcess } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, launchChromium, type Browser } from "../helpers/browser.js";
import { cliPath, spawnKiln } from "./predict-cli.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURES = join(ROOT, "test/fixtures/playground");
const TOKEN = "pg-e2e-token";
const run = promisify(execFile);
const hasChromium = chromiumAvailable();
const SHOTS = resolve(
  ROOT,
  process.env.KILN_SCREENSHOTS_DIR ?? join(tmpdir(), "kiln-playground-screenshots"),
);

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Starts a kiln command and waits for the line that carries its URL. */
async function start(args: string[], cwd: string, pattern: RegExp): Promise<Started> {
  const child = await spawnKiln(args, { cwd });
  let text = "";
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`kiln ${args.join(" ")} did not start:\n${text}`)),
      60_000,
    );
    const onData = (d: Buffer): void => {
      text += d.toString();
      const m = pattern.exec(text);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`kiln ${args.join(" ")} exited ${code}:\n${text}`)));
  });
  return { child, url, output: () => text };
}

async function stop(s: Started | undefined): Promise<void> {
  if (!s || s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once("exit", r));
  s.child.kill("SIGINT");
  await exited;
}

function project(name: string, edit?: (source: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), `kiln-pg-${name}-`));
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  if (edit) writeFileSync(join(dir, "predict.py"), edit(readFileSync(join(dir, "predict.py"), "utf8")));
  return dir;
}

let browser: Browser;
let writer: Started; // kiln playground (with the webhook receiver)
let shouter: Started; // a second version of the writer, under kiln serve
let painter: Started; // kiln serve --api-token
let gallery: Started; // several outputs of several kinds
const dirs: string[] = [];
const requested = new Set<string>();

async function openPage(url: string): Promise<Page> {
  const page = await browser.context.newPage();
  page.on("request", (r) => requested.add(r.url()));
  page.on("pageerror", (e) => {
    throw e;
  });
  await page.goto(url);
  return page;
}

async function ready(page: Page): Promise<void> {
  await page.waitForSelector("body[data-ready]");
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

const outputText = (page: Page, scope = ".results [role=tabpanel]:not([hidden]) .run-view") =>
  page.locator(`${scope} .output .output-text`).first();

describe.skipIf(!hasChromium)("playground in headless Chromium", () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await cliPath(); // transpiles src/ and bundles the runtime, the playground page included
    const w = project("writer");
    const s = project("writer", (src) => src.replace('STYLE = "plain"', 'STYLE = "shout"'));
    const p = project("painter");
    const g = project("gallery");
    dirs.push(w, s, p, g);
    [writer, shouter, painter, gallery] = await Promise.all([
      start(["playground", "--no-docker", "--no-open", "-p", "0"], w, /Playground: (\S+)/),
      start(["serve", "--no-docker", "-p", "0"], s, /Model ready: (http:\/\/\S+)/),
      start(["serve", "--no-docker", "-p", "0", "--api-token", TOKEN], p, /Model ready: (http:\/\/\S+)/),
      start(["serve", "--no-docker", "-p", "0"], g, /Model ready: (http:\/\/\S+)/),
    ]);
    browser = await launchChromium();
    await browser.context.grantPermissions(["clipboard-read", "clipboard-write"]);
    browser.context.setDefaultTimeout(15_000);
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([stop(writer), stop(shouter), stop(painter), stop(gallery)]);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("renders a control for every input kind, with descriptions, ranges and defaults", async () => {
    const page = await openPage(writer.url);
    await ready(page);
    await expect(
      page.getByRole("textbox", { name: "Prompt (required)" }).evaluate((e) => e.tagName),
    ).resolves.toBe("TEXTAREA");
    const style = page.getByRole("combobox", { name: "Style", exact: true });
    expect(await style.locator("option").allTextContents()).toEqual(["plain", "shout", "reverse"]);
    const words = page.getByRole("spinbutton", { name: "Words", exact: true });
    expect(await words.inputValue()).toBe("6");
    expect(await words.getAttribute("min")).toBe("1");
    expect(await words.getAttribute("max")).toBe("50");
    await expect(page.getByText("How many words to write. Range 1 – 50. Default: 6.")).toBeDefined();
    expect(await page.getByLabel("Title Case").isChecked()).toBe(false);
    expect(await page.getByRole("textbox", { name: "Api Key", exact: true }).getAttribute("type")).toBe(
      "password",
    );
    expect(await page.getByRole("button", { name: "Attachment", exact: true }).getAttribute("type")).toBe(
      "file",
    );
    await page.getByRole("button", { name: "Add Tags item" }).click();
    await page.getByLabel("Tags item 1", { exact: true }).fill("omega");
    // Every control has an accessible name (label, aria-label or aria-labelledby).
    const unnamed = await page.$$eval("form input, form select, form textarea", (els) =>
      els
        .filter(
          (e) =>
            !(e as HTMLInputElement).labels?.length &&
            !e.getAttribute("aria-label") &&
            !e.getAttribute("aria-hidden"),
        )
        .map((e) => e.outerHTML),
    );
    expect(unnamed).toEqual([]);
    // x-order: the inputs appear in the predictor's parameter order.
    const order = await page.$$eval("form .field", (els) => els.map((e) => (e as HTMLElement).dataset.field));
    expect(order).toEqual([
      "prompt",
      "style",
      "words",
      "temperature",
      "title_case",
      "tags",
      "seed",
      "api_key",
      "attachment",
      "delay",
    ]);
    await shot(page, "form");
    await page.close();
  });

  it("shows the server's validation messages at the field", async () => {
    const page = await openPage(writer.url);
    await ready(page);
    await page.getByRole("textbox", { name: "Prompt (required)" }).fill("hello");
    await page.getByRole("spinbutton", { name: "Words", exact: true }).fill("99");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    const field = page.locator('[data-field="words"] .field-error');
    await field.waitFor();
    expect(await field.textContent()).toMatch(/less than or equal to 50/);
    expect(
      await page.getByRole("spinbutton", { name: "Words", exact: true }).getAttribute("aria-invalid"),
    ).toBe("true");
    // Focus moves to the first field in error, for keyboard and screen-reader users.
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).getAttribute("name"))).toBe(
      "words",
    );
    await shot(page, "validation");
    await page.close();
  });

  let streamed = "";
  it("runs with streamed text arriving token by token, logs, timings and metrics; a dropped file is previewed", async () => {
    const page = await openPage(writer.url);
    await ready(page);
    await page.getByRole("textbox", { name: "Prompt (required)" }).fill("alpha beta gamma");
    await page.getByRole("spinbutton", { name: "Words", exact: true }).fill("12");
    await page.getByRole("spinbutton", { name: "Delay", exact: true }).fill("0.25");
    // Drag and drop a file onto the attachment's drop zone.
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(["x".repeat(1234)], "notes.txt", { type: "text/plain" }));
      document
        .querySelector('[data-field="attachment"] .drop-zone')!
        .dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await page.locator('[data-field="attachment"] figcaption', { hasText: "notes.txt (1.2 KiB)" }).waitFor();
    await page.getByRole("button", { name: "Run", exact: true }).click();
    // Part of the text is on screen while the prediction is still processing: it streams.
    await page.waitForFunction(() => {
      const text = document.querySelector(".run-view .output .output-text")?.textContent ?? "";
      const status = document.querySelector(".run-view .status")?.textContent;
      return text.split(" ").length >= 2 && status === "processing";
    });
    const partial = await outputText(page).textContent();
    await shot(page, "streaming");
    await page.locator(".run-view .status", { hasText: "succeeded" }).waitFor({ timeout: 30_000 });
    streamed = (await outputText(page).textContent()) ?? "";
    expect(streamed).toBe("alpha beta gamma alpha beta gamma alpha beta gamma alpha beta gamma");
    expect(streamed.startsWith(partial!)).toBe(true);
    expect(partial!.length).toBeLessThan(streamed.length);
    const logs = await page.locator(".run-view .logs").textContent();
    expect(logs).toContain("attachment notes.txt: 1234 bytes");
    expect(logs).toContain("token 12/12");
    expect(await page.locator(".run-view .timings").textContent()).toMatch(/Running.*Total/);
    expect(await page.locator(".run-view .metrics").textContent()).toContain("predict_time");
    await shot(page, "run");

    // Copy as code, then run the copied snippets: the same output as the page shows.
    await page.getByRole("tab", { name: "Code" }).click();
    await page.getByRole("button", { name: "Copy curl" }).click();
    const curl = await page.evaluate(() => navigator.clipboard.readText());
    expect(curl).toContain("/v1/predictions");
    const version = /"version": "([0-9a-f]+)"/.exec(curl)![1]!;
    expect(curl).toContain(version);
    const fromCurl = JSON.parse((await run("bash", ["-c", curl])).stdout) as { output: string[] };
    expect(fromCurl.output.join("")).toBe(streamed);

    await page.getByRole("tab", { name: "JavaScript (replicate)" }).click();
    await page.getByRole("button", { name: "Copy JavaScript (replicate)" }).click();
    const js = await page.evaluate(() => navigator.clipboard.readText());
    const jsDir = mkdtempSync(join(tmpdir(), "kiln-pg-js-"));
    dirs.push(jsDir);
    symlinkSync(join(ROOT, "node_modules"), join(jsDir, "node_modules"));
    writeFileSync(join(jsDir, "snippet.mjs"), js);
    const fromJs = JSON.parse((await run(process.execPath, [join(jsDir, "snippet.mjs")])).stdout) as string[];
    expect(fromJs.join("")).toBe(streamed);

    await page.getByRole("tab", { name: "Python" }).click();
    await page.getByRole("button", { name: "Copy Python" }).click();
    const py = await page.evaluate(() => navigator.clipboard.readText());
    const fromPy = JSON.parse((await run("python3", ["-c", py])).stdout) as string[];
    expect(fromPy.join("")).toBe(streamed);
    await shot(page, "code");
    await page.close();
  });

  it("asks for the API token, then renders an image output", async () => {
    const page = await openPage(`${painter.url}/playground`);
    const dialog = page.getByRole("dialog", { name: "API token" });
    await dialog.waitFor();
    await page.getByLabel("Token", { exact: true }).fill(TOKEN);
    await page.getByRole("button", { name: "Use token" }).click();
    await ready(page);
    await page.getByRole("combobox", { name: "Color", exact: true }).selectOption("red");
    await page.getByRole("spinbutton", { name: "Size", exact: true }).fill("192");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    const img = page.locator(".run-view .output img");
    await img.waitFor({ timeout: 30_000 });
    await page.waitForFunction(
      () => (document.querySelector(".run-view .output img") as HTMLImageElement | null)?.complete,
    );
    expect(
      await img.evaluate((i) => [
        (i as HTMLImageElement).naturalWidth,
        (i as HTMLImageElement).naturalHeight,
      ]),
    ).toEqual([192, 192]);
    expect(await img.getAttribute("src")).toMatch(/^data:image\/png;base64,/);
    expect(await page.locator(".run-view .metrics").textContent()).toContain("pixels36864");
    await shot(page, "image");

    // A long prediction, canceled from the page.
    await page.getByRole("spinbutton", { name: "Seconds", exact: true }).fill("60");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await page.locator(".run-view .logs", { hasText: "painting" }).waitFor({ timeout: 30_000 });
    await page.getByRole("button", { name: "Cancel", exact: true }).click();
    await page.locator(".run-view .status", { hasText: "canceled" }).waitFor({ timeout: 15_000 });
    await shot(page, "cancel");
    await page.close();
  });

  it("shows several outputs, each previewed by kind: image, audio, text file, download", async () => {
    const page = await openPage(`${gallery.url}/playground`);
    await ready(page);
    await page.getByRole("textbox", { name: "Note" }).fill("written by the model");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await page.locator(".run-view .status", { hasText: "succeeded" }).waitFor({ timeout: 30_000 });
    const items = page.locator(".run-view .output .output-list > li");
    expect(await items.count()).toBe(4);
    await page.waitForFunction(
      () => (document.querySelector(".run-view .output img") as HTMLImageElement | null)?.complete,
    );
    expect(
      await items
        .nth(0)
        .locator("img")
        .evaluate((i) => (i as HTMLImageElement).naturalWidth),
    ).toBe(48);
    const audio = items.nth(1).locator("audio");
    expect(await audio.getAttribute("src")).toMatch(/^data:audio\/wav;base64,/);
    await page.waitForFunction(
      () =>
        ((document.querySelector(".run-view .output audio") as HTMLAudioElement | null)?.readyState ?? 0) >=
        1,
    );
    expect(await audio.evaluate((a) => Math.round((a as HTMLAudioElement).duration * 10) / 10)).toBe(0.5);
    expect(await items.nth(2).locator("pre").textContent()).toBe("written by the model\n");
    expect(await items.nth(3).getByRole("link").textContent()).toBe("Download output-4.bin");
    await shot(page, "outputs");
    await page.close();
  });

  it("compares the same inputs on two servers side by side", async () => {
    const page = await openPage(writer.url);
    await ready(page);
    await page.getByRole("textbox", { name: "Prompt (required)" }).fill("side by side");
    await page.getByRole("spinbutton", { name: "Words", exact: true }).fill("3");
    await page.getByRole("tab", { name: "Compare" }).click();
    await page.getByLabel("Another server").fill(shouter.url);
    await page.getByRole("button", { name: "Add server" }).click();
    await page.getByText(/Added 1 model from/).waitFor();
    await page.getByRole("button", { name: "Run on selected models" }).click();
    await page.getByText("Compared 2 models.").waitFor({ timeout: 30_000 });
    const columns = page.locator(".compare-grid .run-view");
    expect(await columns.count()).toBe(2);
    const texts = await columns.locator(".output-text").allTextContents();
    expect(texts).toEqual(["side by side", "SIDE BY SIDE"]);
    expect(await columns.locator(".status").allTextContents()).toEqual(["succeeded", "succeeded"]);
    await shot(page, "compare");
    await page.close();
  });

  it("lists the server's predictions; one opens into the form, is edited and runs again", async () => {
    const page = await openPage(writer.url);
    await ready(page);
    await page.getByRole("tab", { name: "History" }).click();
    const item = page.locator(".history-item", { hasText: "alpha beta gamma" }).first();
    await item.waitFor();
    await shot(page, "history");
    await item.getByRole("button", { name: /^Open prediction/ }).click();
    expect(await page.getByRole("textbox", { name: "Prompt (required)" }).inputValue()).toBe(
      "alpha beta gamma",
    );
    expect(await page.getByRole("spinbutton", { name: "Words", exact: true }).inputValue()).toBe("12");
    expect(await outputText(page).textContent()).toBe(streamed);
    await page.getByRole("spinbutton", { name: "Words", exact: true }).fill("2");
    await page.getByRole("spinbutton", { name: "Delay", exact: true }).fill("0");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await page.locator(".run-view .status", { hasText: "succeeded" }).waitFor({ timeout: 30_000 });
    expect(await outputText(page).textContent()).toBe("alpha beta");
    await page.close();
  });

  it("shows what a prediction's webhooks carry, with their signatures checked", async () => {
    const page = await openPage(writer.url);
    await ready(page);
    await page.getByRole("tab", { name: "Webhooks" }).click();
    expect(await page.getByLabel("Send the next runs' webhooks here").isChecked()).toBe(true);
    await page.getByRole("textbox", { name: "Prompt (required)" }).fill("hooked");
    await page.getByRole("spinbutton", { name: "Words", exact: true }).fill("2");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await page.locator(".run-view .status", { hasText: "succeeded" }).waitFor({ timeout: 30_000 });
    await page.getByRole("tab", { name: "Webhooks" }).click();
    const done = page.locator('.delivery[data-status="succeeded"]');
    await done.waitFor({ timeout: 30_000 });
    expect(await done.textContent()).toContain("signature valid");
    await done.locator("summary").click();
    expect(await done.locator("pre").last().textContent()).toContain('"output"');
    expect(
      await page.locator('.delivery[data-status="starting"], .delivery[data-status="processing"]').count(),
    ).toBeGreaterThan(0);
    await shot(page, "webhooks");
    await page.close();
  });

  it("works from the keyboard: tab to the prompt, type, Ctrl+Enter, arrow keys between tabs", async () => {
    const page = await openPage(writer.url);
    await ready(page);
    await page.getByRole("textbox", { name: "Prompt (required)" }).focus();
    await page.keyboard.type("keys only");
    await page.getByRole("spinbutton", { name: "Delay", exact: true }).focus();
    await page.keyboard.press("Control+A");
    await page.keyboard.type("0");
    await page.keyboard.press("Control+Enter");
    await page.locator(".run-view .status", { hasText: "succeeded" }).waitFor({ timeout: 30_000 });
    expect(await outputText(page).textContent()).toMatch(/^keys only keys only/);
    await page.getByRole("tab", { name: "Output" }).focus();
    await page.keyboard.press("ArrowRight");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Compare");
    expect(await page.getByRole("tab", { name: "Compare" }).getAttribute("aria-selected")).toBe("true");
    await page.close();
  });

  it("loaded nothing from outside this machine", () => {
    const outside = [...requested].filter((u) => !/^(data:|blob:|http:\/\/127\.0\.0\.1:\d+\/)/.test(u));
    expect(requested.size).toBeGreaterThan(10);
    expect(outside).toEqual([]);
  });
});
