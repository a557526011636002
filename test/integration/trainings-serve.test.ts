/**
 * The official `replicate` client's trainings.create/get/list/cancel against a real `kiln serve
 * --no-docker` process serving a Cog-style Python project with a Trainer class (train: in cog.yaml).
 */
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Replicate from "replicate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve, webhookReceiver, type Served } from "./client-helpers.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/python/train-class/", import.meta.url));

describe("kiln serve: /v1 trainings with the replicate client", () => {
  let dir = "";
  let served: Served;
  let replicate: Replicate;
  let version = "";

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "kiln-trainings-serve-"));
    await cp(FIXTURE, dir, { recursive: true });
    served = await serve(dir, "cog.yaml", ["--api-token", "train-token"]);
    replicate = new Replicate({ auth: "train-token", baseUrl: `${served.url}/v1` });
    const model = await replicate.models.get("acme", "tuner");
    version = model.latest_version!.id;
    expect(model.latest_version?.openapi_schema).toMatchObject({
      components: { schemas: { TrainingInput: { type: "object" }, TrainingOutput: { type: "object" } } },
    });
  });

  afterAll(async () => {
    await served?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("create → get until succeeded; output.weights downloads the trained file", async () => {
    const hook = await webhookReceiver();
    try {
      const created = await replicate.trainings.create("acme", "tuner", version, {
        destination: "acme/tuner-cats",
        input: { text: "cats", steps: 3, token: "hf_secret" },
        webhook: hook.url,
        webhook_events_filter: ["completed"],
      });
      expect(created).toMatchObject({
        model: "acme/tuner",
        version,
        destination: "acme/tuner-cats",
        input: { text: "cats", steps: 3, token: "**********" },
        urls: { get: `${served.url}/v1/trainings/${created.id}` },
      });
      const completed = await hook.next((r) => JSON.parse(r.body).id === created.id);
      expect(JSON.parse(completed.body)).toMatchObject({ status: "succeeded" });
      const got = await replicate.trainings.get(created.id);
      expect(got).toMatchObject({ status: "succeeded", logs: "step 1/3\nstep 2/3\nstep 3/3\n" });
      const res = await fetch(got.output!.weights!, { headers: { authorization: "Bearer train-token" } });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("base-v1+catsx3 token=9");
      const listed = await replicate.trainings.list();
      expect(listed.results[0]).toMatchObject({ id: created.id, status: "succeeded" });
    } finally {
      await hook.close();
    }
  });

  it("cancel reaches the Python trainer", async () => {
    const created = await replicate.trainings.create("acme", "tuner", version, {
      destination: "acme/tuner-slow",
      input: { text: "slow", hold: 60 },
    });
    // Wait (bounded) for the trainer to be running, so the cancel reaches train() itself.
    let status = created.status;
    const deadline = Date.now() + 20_000;
    while (status === "starting" && Date.now() < deadline)
      status = (await replicate.trainings.get(created.id)).status;
    expect(status).toBe("processing");
    const canceled = await replicate.trainings.cancel(created.id);
    expect(canceled.id).toBe(created.id);
    expect(canceled.status).toBe("canceled");
    const got = await replicate.trainings.get(created.id);
    expect(got.status).toBe("canceled");
    expect(got.output ?? null).toBeNull();
  });
});
